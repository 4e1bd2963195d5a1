import { sql } from "drizzle-orm";
import { index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { shopRole, shops } from "./shops.ts";
import { users } from "./users.ts";

/**
 * An invitation to join a shop's team, addressed to an email rather than an account: the owner
 * never learns whether the address has one, and nobody joins without accepting. Only the
 * SHA-256 of the token is stored; the token itself travels once, in the email.
 */
export const shopInvitations = pgTable(
  "shop_invitations",
  {
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    /** Lower-cased; compared with the accepting account's email. */
    email: text("email").notNull(),
    role: shopRole("role").notNull(),
    tokenHash: text("token_hash").notNull(),
    invitedBy: uuid("invited_by")
      .notNull()
      .references(() => users.id),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true }),
    acceptedBy: uuid("accepted_by").references(() => users.id),
    declinedAt: timestamp("declined_at", { withTimezone: true }),
    /** Set by the owner's revoke, or by a new invitation to the same email replacing this one. */
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("shop_invitations_token_hash_key").on(t.tokenHash),
    // One open invitation per shop and email: re-inviting replaces it, Postgres keeps it so.
    uniqueIndex("shop_invitations_one_open_key")
      .on(t.shopId, t.email)
      .where(sql`${t.acceptedAt} is null and ${t.declinedAt} is null and ${t.revokedAt} is null`),
    index("shop_invitations_shop_idx").on(t.shopId, t.id),
  ],
);

export type ShopInvitation = typeof shopInvitations.$inferSelect;
