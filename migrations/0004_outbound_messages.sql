CREATE TYPE "public"."outbound_channel" AS ENUM('email', 'sms');--> statement-breakpoint
CREATE TYPE "public"."outbound_transport" AS ENUM('dev-mailbox', 'resend');--> statement-breakpoint
CREATE TABLE "outbound_messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"dedupe_key" text NOT NULL,
	"channel" "outbound_channel" NOT NULL,
	"transport" "outbound_transport" NOT NULL,
	"recipient" text NOT NULL,
	"subject" text NOT NULL,
	"body" text,
	"provider_message_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_messages_dedupe_key" ON "outbound_messages" USING btree ("dedupe_key","channel");--> statement-breakpoint
CREATE INDEX "outbound_messages_recipient_idx" ON "outbound_messages" USING btree ("recipient","id");