CREATE TYPE "public"."auction_status" AS ENUM('scheduled', 'active', 'ended_sold', 'ended_unsold', 'bought_now', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."second_chance_status" AS ENUM('offered', 'accepted', 'expired', 'declined');--> statement-breakpoint
CREATE TABLE "auctions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"shop_id" uuid NOT NULL,
	"product_id" uuid NOT NULL,
	"created_by" uuid NOT NULL,
	"currency" text NOT NULL,
	"start_price_minor" integer NOT NULL,
	"reserve_price_minor" integer,
	"buy_now_price_minor" integer,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"current_ends_at" timestamp with time zone NOT NULL,
	"soft_close_seconds" integer NOT NULL,
	"max_extension_seconds" integer NOT NULL,
	"status" "auction_status" DEFAULT 'scheduled' NOT NULL,
	"price_minor" integer NOT NULL,
	"leader_alias" text,
	"bid_count" integer DEFAULT 0 NOT NULL,
	"last_sequence" integer DEFAULT 0 NOT NULL,
	"reserve_met" boolean DEFAULT false NOT NULL,
	"winner_id" uuid,
	"order_id" uuid,
	"closed_at" timestamp with time zone,
	"configured_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "auctions_start_positive" CHECK ("auctions"."start_price_minor" > 0),
	CONSTRAINT "auctions_reserve_at_least_start" CHECK ("auctions"."reserve_price_minor" is null or "auctions"."reserve_price_minor" >= "auctions"."start_price_minor"),
	CONSTRAINT "auctions_buy_now_30_percent" CHECK ("auctions"."buy_now_price_minor" is null or "auctions"."buy_now_price_minor"::bigint * 10 >= "auctions"."start_price_minor"::bigint * 13),
	CONSTRAINT "auctions_ends_after_start" CHECK ("auctions"."ends_at" > "auctions"."starts_at"),
	CONSTRAINT "auctions_current_end_not_earlier" CHECK ("auctions"."current_ends_at" >= "auctions"."ends_at")
);
--> statement-breakpoint
CREATE TABLE "bids" (
	"auction_id" uuid NOT NULL,
	"sequence" integer NOT NULL,
	"bidder_id" uuid NOT NULL,
	"bidder_alias" text NOT NULL,
	"max_minor" integer NOT NULL,
	"price_after_minor" integer NOT NULL,
	"outcome" text NOT NULL,
	"accepted_at" timestamp with time zone NOT NULL,
	CONSTRAINT "bids_auction_id_sequence_pk" PRIMARY KEY("auction_id","sequence")
);
--> statement-breakpoint
CREATE TABLE "second_chance_offers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"auction_id" uuid NOT NULL,
	"bidder_id" uuid NOT NULL,
	"price_minor" integer NOT NULL,
	"currency" text NOT NULL,
	"status" "second_chance_status" DEFAULT 'offered' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"order_id" uuid,
	"offered_by" text NOT NULL,
	"source_order_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone,
	CONSTRAINT "second_chance_offers_source_order_id_unique" UNIQUE("source_order_id")
);
--> statement-breakpoint
CREATE TABLE "user_strikes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"order_id" uuid NOT NULL,
	"auction_id" uuid,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_strikes_order_id_unique" UNIQUE("order_id")
);
--> statement-breakpoint
ALTER TABLE "auctions" ADD CONSTRAINT "auctions_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auctions" ADD CONSTRAINT "auctions_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auctions" ADD CONSTRAINT "auctions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "second_chance_offers" ADD CONSTRAINT "second_chance_offers_auction_id_auctions_id_fk" FOREIGN KEY ("auction_id") REFERENCES "public"."auctions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "second_chance_offers" ADD CONSTRAINT "second_chance_offers_bidder_id_users_id_fk" FOREIGN KEY ("bidder_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "second_chance_offers" ADD CONSTRAINT "second_chance_offers_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "second_chance_offers" ADD CONSTRAINT "second_chance_offers_source_order_id_orders_id_fk" FOREIGN KEY ("source_order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_strikes" ADD CONSTRAINT "user_strikes_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_strikes" ADD CONSTRAINT "user_strikes_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_strikes" ADD CONSTRAINT "user_strikes_auction_id_auctions_id_fk" FOREIGN KEY ("auction_id") REFERENCES "public"."auctions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "auctions_one_open_per_product_key" ON "auctions" USING btree ("product_id") WHERE "auctions"."status" in ('scheduled', 'active');--> statement-breakpoint
CREATE INDEX "auctions_open_end_idx" ON "auctions" USING btree ("current_ends_at","id") WHERE "auctions"."status" in ('scheduled', 'active');--> statement-breakpoint
CREATE INDEX "auctions_shop_idx" ON "auctions" USING btree ("shop_id","id");--> statement-breakpoint
CREATE INDEX "bids_bidder_idx" ON "bids" USING btree ("bidder_id","auction_id");--> statement-breakpoint
CREATE UNIQUE INDEX "second_chance_offers_bidder_key" ON "second_chance_offers" USING btree ("auction_id","bidder_id");--> statement-breakpoint
CREATE UNIQUE INDEX "second_chance_offers_one_open_key" ON "second_chance_offers" USING btree ("auction_id") WHERE "second_chance_offers"."status" = 'offered';--> statement-breakpoint
CREATE INDEX "second_chance_offers_open_expiry_idx" ON "second_chance_offers" USING btree ("expires_at") WHERE "second_chance_offers"."status" = 'offered';--> statement-breakpoint
CREATE INDEX "user_strikes_user_idx" ON "user_strikes" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "orders_auction_buyer_key" ON "orders" USING btree ("auction_id","buyer_id") WHERE "orders"."auction_id" is not null;