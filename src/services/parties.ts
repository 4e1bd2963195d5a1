import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { shopMembers } from "../db/schema/shops.ts";
import { users } from "../db/schema/users.ts";

/** Is the user an admin? Read from Postgres so a demoted admin's token stops working at once. */
export async function isAdmin(db: Queryable, userId: string | null | undefined): Promise<boolean> {
  if (!userId) return false;
  const [u] = await db
    .select({ role: users.role })
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)));
  return u?.role === "admin";
}

/** The user's role in the shop, or null when they are not on its team. */
export async function shopRoleOf(db: Queryable, shopId: string, userId: string) {
  const [m] = await db
    .select({ role: shopMembers.role })
    .from(shopMembers)
    .where(and(eq(shopMembers.shopId, shopId), eq(shopMembers.userId, userId)));
  return m?.role ?? null;
}

/** Ids and emails of a shop's team, to notify them. */
export async function shopTeam(db: Queryable, shopId: string) {
  return db
    .select({ id: users.id, email: users.email })
    .from(shopMembers)
    .innerJoin(users, eq(users.id, shopMembers.userId))
    .where(and(eq(shopMembers.shopId, shopId), isNull(users.deletedAt)));
}

/** Emails by user id, for the email part of a notice. */
export async function emailsOf(db: Queryable, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(inArray(users.id, ids));
  return new Map(rows.map((r) => [r.id, r.email]));
}
