CREATE TABLE "stock_movement_owners" (
	"movement_id" uuid PRIMARY KEY NOT NULL,
	"product_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "payment_issues" ADD COLUMN "resolved_by" uuid;--> statement-breakpoint
ALTER TABLE "payment_issues" ADD COLUMN "resolution_note" text;