CREATE TYPE "public"."bulk_operation_state" AS ENUM('preparing', 'committing', 'committed', 'aborted', 'failed');--> statement-breakpoint
CREATE TYPE "public"."stock_request_status" AS ENUM('pending', 'approved', 'rejected');--> statement-breakpoint
CREATE TABLE "bulk_operations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"shop_id" uuid NOT NULL,
	"source" text NOT NULL,
	"state" "bulk_operation_state" DEFAULT 'preparing' NOT NULL,
	"idempotency_key" text,
	"request_hash" text NOT NULL,
	"actor_id" uuid,
	"request_id" text,
	"reason" text NOT NULL,
	"plan" jsonb NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"outcome" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stock_alert_cursors" (
	"product_id" uuid PRIMARY KEY NOT NULL,
	"last_sequence" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stock_alerts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"shop_id" uuid NOT NULL,
	"product_id" uuid NOT NULL,
	"location_id" uuid NOT NULL,
	"threshold" integer,
	"available_at_raise" integer NOT NULL,
	"raised_movement_id" uuid NOT NULL,
	"raised_sequence" bigint NOT NULL,
	"raised_at" timestamp with time zone NOT NULL,
	"cleared_movement_id" uuid,
	"cleared_sequence" bigint,
	"cleared_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stock_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"shop_id" uuid NOT NULL,
	"product_id" uuid NOT NULL,
	"location_id" uuid NOT NULL,
	"delta" integer NOT NULL,
	"reason" text NOT NULL,
	"status" "stock_request_status" DEFAULT 'pending' NOT NULL,
	"requested_by" uuid NOT NULL,
	"reviewed_by" uuid,
	"review_note" text,
	"movement_id" uuid,
	"movement_sequence" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reviewed_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stock_requests_delta_nonzero" CHECK ("stock_requests"."delta" <> 0),
	CONSTRAINT "stock_requests_approved_has_movement" CHECK ("stock_requests"."status" <> 'approved' or "stock_requests"."movement_id" is not null),
	CONSTRAINT "stock_requests_reviewed_has_reviewer" CHECK ("stock_requests"."status" = 'pending' or ("stock_requests"."reviewed_by" is not null and "stock_requests"."reviewed_at" is not null))
);
--> statement-breakpoint
ALTER TABLE "bulk_operations" ADD CONSTRAINT "bulk_operations_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stock_requests" ADD CONSTRAINT "stock_requests_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stock_requests" ADD CONSTRAINT "stock_requests_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stock_requests" ADD CONSTRAINT "stock_requests_location_id_shop_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."shop_locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stock_requests" ADD CONSTRAINT "stock_requests_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stock_requests" ADD CONSTRAINT "stock_requests_reviewed_by_users_id_fk" FOREIGN KEY ("reviewed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bulk_operations_idempotency_key" ON "bulk_operations" USING btree ("shop_id","actor_id","idempotency_key") WHERE "bulk_operations"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "bulk_operations_unfinished_idx" ON "bulk_operations" USING btree ("updated_at") WHERE "bulk_operations"."state" in ('preparing', 'committing');--> statement-breakpoint
CREATE UNIQUE INDEX "stock_alerts_one_open_key" ON "stock_alerts" USING btree ("product_id","location_id") WHERE "stock_alerts"."cleared_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "stock_alerts_raised_movement_key" ON "stock_alerts" USING btree ("raised_movement_id");--> statement-breakpoint
CREATE INDEX "stock_alerts_shop_open_idx" ON "stock_alerts" USING btree ("shop_id","id") WHERE "stock_alerts"."cleared_at" is null;--> statement-breakpoint
CREATE INDEX "stock_requests_shop_status_idx" ON "stock_requests" USING btree ("shop_id","status","id");--> statement-breakpoint
CREATE INDEX "stock_requests_product_idx" ON "stock_requests" USING btree ("product_id");