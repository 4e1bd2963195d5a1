import { sql } from "drizzle-orm";
import {
  check,
  index,
  integer,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { products } from "./catalog.ts";
import { orders } from "./orders.ts";
import { shops } from "./shops.ts";
import { users } from "./users.ts";

export const messageSide = pgEnum("message_side", ["buyer", "shop"]);

/**
 * A buyer talking to a shop, optionally about one product or one order. `subjectKey`
 * (`general`, `product:<id>`, `order:<id>`) makes one conversation per buyer, shop and subject,
 * so a second "open" returns the first instead of racing to make two.
 */
export const conversations = pgTable(
  "conversations",
  {
    id: uuid("id").primaryKey(),
    buyerId: uuid("buyer_id")
      .notNull()
      .references(() => users.id),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    productId: uuid("product_id").references(() => products.id),
    orderId: uuid("order_id").references(() => orders.id),
    subjectKey: text("subject_key").notNull(),
    /** The newest message each side has read (message ids are uuidv7: later sorts higher). */
    buyerReadUpTo: uuid("buyer_read_up_to"),
    shopReadUpTo: uuid("shop_read_up_to"),
    lastMessageAt: timestamp("last_message_at", { withTimezone: true }).notNull().defaultNow(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("conversations_subject_key").on(t.buyerId, t.shopId, t.subjectKey),
    index("conversations_buyer_idx").on(t.buyerId, t.id),
    index("conversations_shop_idx").on(t.shopId, t.id),
  ],
);

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id),
    senderId: uuid("sender_id")
      .notNull()
      .references(() => users.id),
    /** Which party spoke: any member of the shop speaks for the shop. */
    side: messageSide("side").notNull(),
    body: text("body").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("messages_conversation_idx").on(t.conversationId, t.id)],
);

/** A buyer's rating of a delivered order; one per order, the shop replies at most once. */
export const feedback = pgTable(
  "feedback",
  {
    id: uuid("id").primaryKey(),
    orderId: uuid("order_id")
      .notNull()
      .unique()
      .references(() => orders.id),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    buyerId: uuid("buyer_id")
      .notNull()
      .references(() => users.id),
    rating: integer("rating").notNull(),
    comment: text("comment").notNull(),
    reply: text("reply"),
    repliedBy: uuid("replied_by").references(() => users.id),
    repliedAt: timestamp("replied_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("feedback_rating_range", sql`${t.rating} between 1 and 5`),
    index("feedback_shop_idx").on(t.shopId, t.id),
  ],
);

/** Feedback about Souk itself, from any signed-in user. */
export const platformFeedback = pgTable(
  "platform_feedback",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    rating: integer("rating").notNull(),
    comment: text("comment").notNull(),
    category: text("category"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("platform_feedback_rating_range", sql`${t.rating} between 1 and 5`)],
);

export const complaintSubject = pgEnum("complaint_subject", ["order", "shop", "user"]);
export const complaintCategory = pgEnum("complaint_category", [
  "not_received",
  "not_as_described",
  "counterfeit",
  "abuse",
  "fraud",
  "other",
]);
export const complaintStatus = pgEnum("complaint_status", ["open", "assigned", "resolved"]);
export const complaintOutcome = pgEnum("complaint_outcome", [
  "upheld",
  "partially_upheld",
  "rejected",
]);

export const complaints = pgTable(
  "complaints",
  {
    id: uuid("id").primaryKey(),
    complainantId: uuid("complainant_id")
      .notNull()
      .references(() => users.id),
    subjectType: complaintSubject("subject_type").notNull(),
    subjectId: uuid("subject_id").notNull(),
    category: complaintCategory("category").notNull(),
    text: text("text").notNull(),
    status: complaintStatus("status").notNull().default("open"),
    assigneeId: uuid("assignee_id").references(() => users.id),
    outcome: complaintOutcome("outcome"),
    resolutionNote: text("resolution_note"),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("complaints_complainant_idx").on(t.complainantId, t.id),
    index("complaints_status_idx").on(t.status, t.id),
  ],
);

export type Conversation = typeof conversations.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type Feedback = typeof feedback.$inferSelect;
export type Complaint = typeof complaints.$inferSelect;
