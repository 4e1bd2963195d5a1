CREATE TABLE "sales_monthly" (
	"shop_id" uuid NOT NULL,
	"currency" text NOT NULL,
	"month" date NOT NULL,
	"product_id" uuid NOT NULL,
	"gross_minor" bigint NOT NULL,
	"net_minor" bigint NOT NULL,
	"units" integer NOT NULL,
	"orders" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sales_monthly_shop_id_currency_month_product_id_pk" PRIMARY KEY("shop_id","currency","month","product_id")
);
--> statement-breakpoint
INSERT INTO "sales_monthly" ("shop_id", "currency", "month", "product_id", "gross_minor", "net_minor", "units", "orders")
SELECT "shop_id", "currency", date_trunc('month', "day")::date, "product_id", sum("gross_minor"), sum("net_minor"), sum("units"), sum("orders")
FROM "sales_daily"
GROUP BY "shop_id", "currency", date_trunc('month', "day")::date, "product_id";
