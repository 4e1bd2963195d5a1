import { and, eq, isNotNull, isNull } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { users } from "../../db/schema/users.ts";
import { parseOr422 } from "../../lib/input.ts";
import { text } from "../../lib/text.ts";
import { tellRoomsOfBlock } from "../auctions/eligibility.ts";
import { strikesOf } from "../auctions/unpaid.ts";
import { revokeAllSessions } from "../auth/session.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, NotFound } from "../errors.ts";
import { notifyAfterCommit } from "../notifications/notify.ts";
import { recordStanding } from "./standing.ts";

export const blockInput = z.object({ reason: text().trim().min(3).max(500) });
export const unblockInput = z.object({ reason: text().trim().min(3).max(500).optional() });

export interface AdminUserView {
  id: string;
  email: string;
  displayName: string;
  role: "buyer" | "seller" | "admin";
  blocked: boolean;
  blockedAt: string | null;
  blockedReason: string | null;
  createdAt: string;
  deletedAt: string | null;
  strikes: Array<{
    id: string;
    orderId: string;
    auctionId: string | null;
    reason: string;
    at: string;
  }>;
  /** Strikes in the last 12 months: two block bidding and buying. */
  strikesWithinYear: number;
}

/** A user as an admin sees them: block state and strike history. */
export async function getUserForAdmin(ctx: ServiceContext, userId: string): Promise<AdminUserView> {
  const [u] = await ctx.db.select().from(users).where(eq(users.id, userId));
  if (!u) throw new NotFound("user", userId);
  const { strikes, withinWindow } = await strikesOf(ctx, userId);
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    role: u.role,
    blocked: u.blockedAt !== null,
    blockedAt: u.blockedAt?.toISOString() ?? null,
    blockedReason: u.blockedReason,
    createdAt: u.createdAt.toISOString(),
    deletedAt: u.deletedAt?.toISOString() ?? null,
    strikes,
    strikesWithinYear: withinWindow,
  };
}

/**
 * An admin blocks a user, with a reason (audited `user.blocked`): from then on the account may
 * sign in, read, pay what it owes and answer its conversations, nothing else. Their refresh
 * tokens are revoked, so every session must sign in again; before this returns the revocation
 * set holds the block (so access tokens still valid are refused their writes at once), the
 * auction rooms that hold the user as eligible are told (tellRoomsOfBlock), and purchases read
 * the block from Postgres anyway. Blocking a blocked user is a 409; an admin cannot block
 * themselves.
 */
export async function blockUser(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof blockInput>,
): Promise<AdminUserView> {
  const { reason } = parseOr422(blockInput, raw);
  if (ctx.actor.id === userId) throw new Conflict("You cannot block yourself.", { reason: "self" });
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [exists] = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId));
    if (!exists) throw new NotFound("user", userId);
    const [changed] = await tx
      .update(users)
      .set({ blockedAt: new Date(), blockedReason: reason, updatedAt: new Date() })
      .where(and(eq(users.id, userId), isNull(users.blockedAt)))
      .returning({ id: users.id });
    if (!changed)
      throw new Conflict("This user is already blocked.", { reason: "already_blocked" });
    await audit.record({
      action: "user.blocked",
      entityType: "user",
      entityId: userId,
      oldValue: { blocked: false },
      newValue: { blocked: true, reason, by: "admin" },
    });
  });
  await Promise.all([
    recordStanding(ctx, userId, "blocked"),
    revokeAllSessions(ctx.db, userId),
    tellRoomsOfBlock(ctx, userId),
  ]);
  await notifyAfterCommit(ctx.queue, ctx.logger, {
    userId,
    kind: "account.blocked",
    title: "Your account can no longer bid or buy",
    body: `An admin blocked bidding and buying on your account: ${reason}`,
    dedupeKey: `account.blocked:${userId}:${Date.now()}`,
  });
  return getUserForAdmin(ctx, userId);
}

/**
 * An admin lifts a block (audited `user.unblocked`); 409 when the user is not blocked. The
 * revocation set records it too, so access tokens signed during the block stop being refused.
 */
export async function unblockUser(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof unblockInput>,
): Promise<AdminUserView> {
  const { reason } = parseOr422(unblockInput, raw ?? {});
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [before] = await tx
      .select({ blockedReason: users.blockedReason })
      .from(users)
      .where(eq(users.id, userId))
      .for("update");
    if (!before) throw new NotFound("user", userId);
    const [changed] = await tx
      .update(users)
      .set({ blockedAt: null, blockedReason: null, updatedAt: new Date() })
      .where(and(eq(users.id, userId), isNotNull(users.blockedAt)))
      .returning({ id: users.id });
    if (!changed) throw new Conflict("This user is not blocked.", { reason: "not_blocked" });
    await audit.record({
      action: "user.unblocked",
      entityType: "user",
      entityId: userId,
      oldValue: { blocked: true, reason: before.blockedReason },
      newValue: { blocked: false, reason: reason ?? null },
    });
  });
  await recordStanding(ctx, userId, "unblocked");
  await notifyAfterCommit(ctx.queue, ctx.logger, {
    userId,
    kind: "account.unblocked",
    title: "Your account can bid and buy again",
    body: "An admin lifted the block on your account.",
    dedupeKey: `account.unblocked:${userId}:${Date.now()}`,
  });
  return getUserForAdmin(ctx, userId);
}
