ALTER TABLE "shops" ADD COLUMN "time_zone" text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE "shop_locations" ADD COLUMN "address" jsonb;--> statement-breakpoint
ALTER TABLE "shop_locations" ADD COLUMN "latitude" double precision;--> statement-breakpoint
ALTER TABLE "shop_locations" ADD COLUMN "longitude" double precision;--> statement-breakpoint
ALTER TABLE "shop_locations" ADD COLUMN "opening_hours" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "shop_locations" ADD COLUMN "pickup_enabled" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "shop_locations" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "shop_locations" ADD CONSTRAINT "shop_locations_coordinates_check" CHECK (("shop_locations"."latitude" is null) = ("shop_locations"."longitude" is null) and "shop_locations"."latitude" between -90 and 90 and "shop_locations"."longitude" between -180 and 180);
