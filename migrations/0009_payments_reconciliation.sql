ALTER TABLE "refunds" ADD COLUMN "transfer_reversal_id" text;--> statement-breakpoint
CREATE INDEX "checkouts_open_idx" ON "checkouts" USING btree ("created_at") WHERE "checkouts"."status" = 'open';