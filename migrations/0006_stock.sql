CREATE TYPE "public"."stock_alert" AS ENUM('raised', 'cleared');--> statement-breakpoint
CREATE TYPE "public"."stock_movement_kind" AS ENUM('adjust', 'set', 'reserve', 'commit', 'release', 'expire', 'undo', 'hold', 'bulk', 'hold_release', 'hold_expire', 'threshold');--> statement-breakpoint
CREATE TABLE "stock_movements" (
	"id" uuid PRIMARY KEY NOT NULL,
	"product_id" uuid NOT NULL,
	"shop_id" uuid,
	"location_id" uuid NOT NULL,
	"sequence" bigint NOT NULL,
	"kind" "stock_movement_kind" NOT NULL,
	"delta_on_hand" integer NOT NULL,
	"delta_reserved" integer NOT NULL,
	"on_hand_after" integer NOT NULL,
	"reserved_after" integer NOT NULL,
	"low_stock_threshold" integer,
	"low_stock" boolean NOT NULL,
	"alert" "stock_alert",
	"reason" text,
	"actor_type" text NOT NULL,
	"actor_id" uuid,
	"request_id" text,
	"reservation_id" uuid,
	"tx_id" text,
	"undoes_sequence" bigint,
	"created_at" timestamp with time zone NOT NULL,
	"mirrored_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stock_movements_levels_check" CHECK ("stock_movements"."on_hand_after" >= 0 and "stock_movements"."reserved_after" >= 0 and "stock_movements"."reserved_after" <= "stock_movements"."on_hand_after")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "stock_movements_product_sequence_key" ON "stock_movements" USING btree ("product_id","sequence");--> statement-breakpoint
CREATE INDEX "stock_movements_shop_idx" ON "stock_movements" USING btree ("shop_id","id");--> statement-breakpoint
CREATE INDEX "stock_movements_alerts_idx" ON "stock_movements" USING btree ("shop_id","id") WHERE "stock_movements"."alert" is not null;