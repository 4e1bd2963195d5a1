import { and, eq, isNull } from "drizzle-orm";
import { withAudit } from "../../db/audit.ts";
import { users } from "../../db/schema/users.ts";
import { lockAccount } from "../auth/account-codes.ts";
import { type Session, startSession } from "../auth/session.ts";
import type { ServiceContext } from "../context.ts";
import { AccountBlocked, Conflict, NotFound } from "../errors.ts";
import { type PublicUser, toPublicUser } from "./public-user.ts";

/**
 * A buyer becomes a seller (audited `user.role_changed`); a seller can still buy. The role
 * lives in the access token, so a fresh session is returned that carries it (a refresh of an
 * older session reads the role again too). Already a seller: a fresh session, nothing written.
 * An admin keeps their role (409); a blocked account may not start selling (403).
 */
export async function becomeSeller(
  ctx: ServiceContext,
  userId: string,
): Promise<{ user: PublicUser; session: Session }> {
  const current = await ctx.db.query.users.findFirst({
    where: and(eq(users.id, userId), isNull(users.deletedAt)),
  });
  if (!current) throw new NotFound("user", userId);
  if (current.blockedAt) throw new AccountBlocked();
  if (current.role === "admin") throw new Conflict("An admin account cannot become a seller.");
  if (current.role === "seller") {
    return { user: toPublicUser(current), session: await startSession(ctx, current) };
  }
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    // Locked and read again: a block or a concurrent call may have landed since.
    const before = await lockAccount(tx, userId);
    if (before.blockedAt) throw new AccountBlocked();
    if (before.role !== "buyer") {
      throw new Conflict("Your role changed while this request ran; ask again.");
    }
    const [after] = await tx
      .update(users)
      .set({ role: "seller", updatedAt: new Date() })
      .where(eq(users.id, userId))
      .returning();
    if (!after) throw new NotFound("user", userId);
    await audit.record({
      action: "user.role_changed",
      entityType: "user",
      entityId: userId,
      oldValue: { role: before.role },
      newValue: { role: after.role },
    });
    return { user: toPublicUser(after), session: await startSession(ctx, after, tx) };
  });
}
