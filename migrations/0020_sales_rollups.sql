CREATE TABLE "sales_transactions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"shop_id" uuid NOT NULL,
	"product_id" uuid NOT NULL,
	"location_id" uuid NOT NULL,
	"sku" text NOT NULL,
	"title" text NOT NULL,
	"quantity" integer NOT NULL,
	"unit_price_minor" integer NOT NULL,
	"total_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"sold_at" timestamp with time zone NOT NULL,
	"customer_email" text,
	"customer_phone" text,
	"customer_name" text,
	"note" text,
	"source" text DEFAULT 'manual' NOT NULL,
	"movement_id" uuid NOT NULL,
	"client_key" text,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sales_transactions_quantity_positive" CHECK ("sales_transactions"."quantity" > 0),
	CONSTRAINT "sales_transactions_price_not_negative" CHECK ("sales_transactions"."unit_price_minor" >= 0)
);
--> statement-breakpoint
CREATE TABLE "sales_daily" (
	"shop_id" uuid NOT NULL,
	"product_id" uuid NOT NULL,
	"day" date NOT NULL,
	"currency" text NOT NULL,
	"gross_minor" bigint NOT NULL,
	"refunds_minor" bigint NOT NULL,
	"fees_minor" bigint NOT NULL,
	"net_minor" bigint NOT NULL,
	"orders" integer NOT NULL,
	"units" integer NOT NULL,
	"refunded_units" integer DEFAULT 0 NOT NULL,
	"offline_gross_minor" bigint DEFAULT 0 NOT NULL,
	"offline_units" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sales_daily_shop_id_product_id_day_currency_pk" PRIMARY KEY("shop_id","product_id","day","currency")
);
--> statement-breakpoint
CREATE TABLE "sales_daily_shops" (
	"shop_id" uuid NOT NULL,
	"day" date NOT NULL,
	"currency" text NOT NULL,
	"gross_minor" bigint NOT NULL,
	"refunds_minor" bigint NOT NULL,
	"fees_minor" bigint NOT NULL,
	"net_minor" bigint NOT NULL,
	"orders" integer NOT NULL,
	"units" integer NOT NULL,
	"refunded_units" integer DEFAULT 0 NOT NULL,
	"offline_gross_minor" bigint DEFAULT 0 NOT NULL,
	"offline_units" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sales_daily_shops_shop_id_day_currency_pk" PRIMARY KEY("shop_id","day","currency")
);
--> statement-breakpoint
CREATE TABLE "rollup_watermarks" (
	"name" text PRIMARY KEY NOT NULL,
	"watermark" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sales_transactions" ADD CONSTRAINT "sales_transactions_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sales_transactions" ADD CONSTRAINT "sales_transactions_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sales_transactions" ADD CONSTRAINT "sales_transactions_location_id_shop_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."shop_locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sales_transactions" ADD CONSTRAINT "sales_transactions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sales_transactions_shop_sold_idx" ON "sales_transactions" USING btree ("shop_id","sold_at","id");--> statement-breakpoint
CREATE INDEX "sales_transactions_product_sold_idx" ON "sales_transactions" USING btree ("product_id","sold_at");--> statement-breakpoint
CREATE INDEX "sales_transactions_created_idx" ON "sales_transactions" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "sales_transactions_client_key" ON "sales_transactions" USING btree ("shop_id","created_by","client_key") WHERE "sales_transactions"."client_key" is not null;--> statement-breakpoint
CREATE INDEX "sales_daily_shop_day_idx" ON "sales_daily" USING btree ("shop_id","currency","day","product_id","gross_minor","net_minor","units","orders");--> statement-breakpoint
CREATE INDEX "orders_shop_paid_idx" ON "orders" USING btree ("shop_id","paid_at") WHERE "orders"."paid_at" is not null;--> statement-breakpoint
CREATE INDEX "orders_updated_idx" ON "orders" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "stock_movements_product_location_seq_idx" ON "stock_movements" USING btree ("product_id","location_id","sequence");