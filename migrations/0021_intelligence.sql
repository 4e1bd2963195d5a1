CREATE TABLE "customer_insights" (
	"shop_id" uuid NOT NULL,
	"buyer_id" uuid NOT NULL,
	"orders" integer NOT NULL,
	"spend_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"first_purchase_at" timestamp with time zone NOT NULL,
	"last_purchase_at" timestamp with time zone NOT NULL,
	"typical_gap_days" double precision,
	"days_since_last" integer NOT NULL,
	"recency_score" integer NOT NULL,
	"frequency_score" integer NOT NULL,
	"monetary_score" integer NOT NULL,
	"segment" text NOT NULL,
	"churn_risk" text NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_insights_shop_id_buyer_id_pk" PRIMARY KEY("shop_id","buyer_id")
);
--> statement-breakpoint
CREATE TABLE "intelligence_runs" (
	"shop_id" uuid PRIMARY KEY NOT NULL,
	"computed_at" timestamp with time zone NOT NULL,
	"detail" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "product_forecasts" (
	"product_id" uuid PRIMARY KEY NOT NULL,
	"shop_id" uuid NOT NULL,
	"state" text NOT NULL,
	"history_days" integer NOT NULL,
	"method" text,
	"params" jsonb,
	"sigma" double precision,
	"start_day" text NOT NULL,
	"points" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"backtest" jsonb,
	"recent" jsonb,
	"units_last_28" integer DEFAULT 0 NOT NULL,
	"last_sale_day" text,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "product_forecasts_state_check" CHECK ("product_forecasts"."state" in ('ok', 'not_enough_history'))
);
--> statement-breakpoint
CREATE TABLE "recommendations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"shop_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"product_id" uuid,
	"urgency" text NOT NULL,
	"status" text DEFAULT 'new' NOT NULL,
	"title" text NOT NULL,
	"detail" text NOT NULL,
	"figures" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status_changed_at" timestamp with time zone,
	"status_changed_by" uuid,
	CONSTRAINT "recommendations_status_check" CHECK ("recommendations"."status" in ('new', 'seen', 'done', 'dismissed')),
	CONSTRAINT "recommendations_urgency_check" CHECK ("recommendations"."urgency" in ('high', 'medium', 'low'))
);
--> statement-breakpoint
CREATE TABLE "reorder_settings" (
	"product_id" uuid PRIMARY KEY NOT NULL,
	"shop_id" uuid NOT NULL,
	"lead_time_days" integer,
	"service_level" double precision,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reorder_settings_lead_time_check" CHECK ("reorder_settings"."lead_time_days" is null or "reorder_settings"."lead_time_days" between 1 and 365),
	CONSTRAINT "reorder_settings_service_level_check" CHECK ("reorder_settings"."service_level" is null or ("reorder_settings"."service_level" >= 0.5 and "reorder_settings"."service_level" <= 0.999))
);
--> statement-breakpoint
ALTER TABLE "customer_insights" ADD CONSTRAINT "customer_insights_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_insights" ADD CONSTRAINT "customer_insights_buyer_id_users_id_fk" FOREIGN KEY ("buyer_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "intelligence_runs" ADD CONSTRAINT "intelligence_runs_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product_forecasts" ADD CONSTRAINT "product_forecasts_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product_forecasts" ADD CONSTRAINT "product_forecasts_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recommendations" ADD CONSTRAINT "recommendations_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recommendations" ADD CONSTRAINT "recommendations_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recommendations" ADD CONSTRAINT "recommendations_status_changed_by_users_id_fk" FOREIGN KEY ("status_changed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reorder_settings" ADD CONSTRAINT "reorder_settings_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reorder_settings" ADD CONSTRAINT "reorder_settings_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reorder_settings" ADD CONSTRAINT "reorder_settings_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customer_insights_shop_spend_idx" ON "customer_insights" USING btree ("shop_id","spend_minor","buyer_id");--> statement-breakpoint
CREATE INDEX "product_forecasts_shop_idx" ON "product_forecasts" USING btree ("shop_id","product_id");--> statement-breakpoint
CREATE UNIQUE INDEX "recommendations_open_key" ON "recommendations" USING btree ("shop_id","kind","subject") WHERE "recommendations"."status" in ('new', 'seen');--> statement-breakpoint
CREATE INDEX "recommendations_shop_idx" ON "recommendations" USING btree ("shop_id","id");--> statement-breakpoint
CREATE INDEX "reorder_settings_shop_idx" ON "reorder_settings" USING btree ("shop_id");
