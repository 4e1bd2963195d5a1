DROP INDEX "stock_alerts_shop_open_idx";--> statement-breakpoint
ALTER TABLE "stock_alerts" ADD COLUMN "acknowledged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "stock_alerts" ADD COLUMN "acknowledged_by" uuid;--> statement-breakpoint
ALTER TABLE "stock_alerts" ADD CONSTRAINT "stock_alerts_acknowledged_by_users_id_fk" FOREIGN KEY ("acknowledged_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "stock_alerts_shop_open_idx" ON "stock_alerts" USING btree ("shop_id","id") WHERE "stock_alerts"."cleared_at" is null and "stock_alerts"."acknowledged_at" is null;