import { sql } from "drizzle-orm";
import { pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

export const userRole = pgEnum("user_role", ["buyer", "seller", "admin"]);

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey(),
    /** Stored lower-cased; the unique index is what stops two accounts racing for one email. */
    email: text("email").notNull(),
    displayName: text("display_name").notNull(),
    role: userRole("role").notNull().default("buyer"),
    /** Set when the holder proved the address with a mailed code; an email change resets it. */
    emailVerifiedAt: timestamp("email_verified_at", { withTimezone: true }),
    blockedAt: timestamp("blocked_at", { withTimezone: true }),
    blockedReason: text("blocked_reason"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("users_email_live_key").on(t.email).where(sql`${t.deletedAt} is null`)],
);

export type User = typeof users.$inferSelect;
