import { and, eq, isNull } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { users } from "../../db/schema/users.ts";
import { Forbidden, Unauthenticated } from "../errors.ts";

/**
 * The buyer may buy: a live account that no admin blocked. An access token outlives a block by
 * up to its 15 minutes, so every buying write asks Postgres rather than trusting the token.
 */
export async function requireCanBuy(db: Queryable, userId: string): Promise<void> {
  const [user] = await db
    .select({ blockedAt: users.blockedAt })
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)));
  if (!user) throw new Unauthenticated("This account no longer exists.");
  if (user.blockedAt) throw new Forbidden("This account is blocked: it cannot buy.");
}
