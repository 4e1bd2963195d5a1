ALTER TYPE "public"."order_status" ADD VALUE 'ready_for_pickup';--> statement-breakpoint
ALTER TYPE "public"."order_status" ADD VALUE 'collected';--> statement-breakpoint
CREATE TABLE "delivery_slot_schedules" (
	"shop_id" uuid PRIMARY KEY NOT NULL,
	"revision" integer NOT NULL,
	"time_zone" text NOT NULL,
	"capacity" integer NOT NULL,
	"cutoff_minutes" integer NOT NULL,
	"horizon_days" integer NOT NULL,
	"days" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "delivery_slot_events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"shop_id" uuid NOT NULL,
	"sequence" bigint NOT NULL,
	"kind" text NOT NULL,
	"booking_id" uuid,
	"checkout_id" uuid,
	"slot_start" timestamp with time zone,
	"booked_after" integer,
	"capacity" integer,
	"revision" integer,
	"reason" text,
	"actor_type" text NOT NULL,
	"actor_id" uuid,
	"request_id" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "delivery_slot_events_kind_check" CHECK ("delivery_slot_events"."kind" in ('schedule', 'book', 'confirm', 'release', 'expire'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "delivery_slot_events_shop_sequence_key" ON "delivery_slot_events" USING btree ("shop_id","sequence");--> statement-breakpoint
CREATE INDEX "delivery_slot_events_booking_idx" ON "delivery_slot_events" USING btree ("booking_id") WHERE "delivery_slot_events"."booking_id" is not null;--> statement-breakpoint
CREATE INDEX "delivery_slot_events_slot_idx" ON "delivery_slot_events" USING btree ("shop_id","slot_start");--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "delivery_slot_start" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "delivery_slot_end" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "pickup_code_hash" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "pickup_code_failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "ready_for_pickup_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "collected_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "orders_delivery_slot_idx" ON "orders" USING btree ("shop_id","delivery_slot_start") WHERE "orders"."delivery_slot_start" is not null;
