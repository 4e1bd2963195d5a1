import { and, eq, isNull } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { users } from "../../db/schema/users.ts";
import type { ServiceContext } from "../context.ts";
import { Forbidden, Unauthenticated } from "../errors.ts";
import type { StockNamespace } from "../inventory/context.ts";

/** What buying services need beyond the database: the stock objects (availability, holds). */
export interface BuyingContext extends ServiceContext {
  stock: StockNamespace;
}

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
