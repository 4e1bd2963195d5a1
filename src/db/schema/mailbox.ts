import { index, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

export const outboundChannel = pgEnum("outbound_channel", ["email", "sms"]);
export const outboundTransport = pgEnum("outbound_transport", ["dev-mailbox", "resend"]);

/**
 * Every email or SMS the notifications consumer handed to a transport, one row per message and
 * channel. The unique key is what keeps a redelivered queue message from sending twice. Rows
 * with transport `dev-mailbox` are the dev mailbox itself (GET /dev/mailbox) and keep the body;
 * rows sent through a real provider keep no body, so a code in a message is not stored in clear.
 */
export const outboundMessages = pgTable(
  "outbound_messages",
  {
    id: uuid("id").primaryKey(),
    /** The notification's dedupeKey. */
    dedupeKey: text("dedupe_key").notNull(),
    channel: outboundChannel("channel").notNull(),
    transport: outboundTransport("transport").notNull(),
    /** An email address, or an E.164 number for SMS. */
    recipient: text("recipient").notNull(),
    subject: text("subject").notNull(),
    /** Kept only by the dev mailbox. */
    body: text("body"),
    providerMessageId: text("provider_message_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("outbound_messages_dedupe_key").on(t.dedupeKey, t.channel),
    index("outbound_messages_recipient_idx").on(t.recipient, t.id),
  ],
);

export type OutboundMessage = typeof outboundMessages.$inferSelect;
