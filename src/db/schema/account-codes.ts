import { sql } from "drizzle-orm";
import {
  index,
  integer,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { users } from "./users.ts";

export const accountCodePurpose = pgEnum("account_code_purpose", [
  "password_reset",
  "email_verification",
  "email_change",
]);

/**
 * One-time codes mailed to an account's holder: a password reset, proof of the current email,
 * or proof of a new one (`email` is where the code went, so an email change takes effect only
 * once that address has answered). Only an HMAC of the code is kept.
 */
export const accountCodes = pgTable(
  "account_codes",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    purpose: accountCodePurpose("purpose").notNull(),
    /** Lower-cased, like users.email. */
    email: text("email").notNull(),
    codeHash: text("code_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    failedAttempts: integer("failed_attempts").notNull().default(0),
    consumedAt: timestamp("consumed_at", { withTimezone: true }),
    voidedAt: timestamp("voided_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // At most one live code per account and purpose: a new request voids the old one.
    uniqueIndex("account_codes_one_active_key")
      .on(t.userId, t.purpose)
      .where(sql`${t.consumedAt} is null and ${t.voidedAt} is null`),
    index("account_codes_user_idx").on(t.userId),
  ],
);

export type AccountCode = typeof accountCodes.$inferSelect;
export type AccountCodePurpose = (typeof accountCodePurpose.enumValues)[number];
