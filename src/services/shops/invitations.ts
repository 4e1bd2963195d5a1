import { and, desc, eq, gt, isNull, lt } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import { type ShopInvitation, shopInvitations } from "../../db/schema/shop-invitations.ts";
import { shopMembers, shops } from "../../db/schema/shops.ts";
import { users } from "../../db/schema/users.ts";
import { errorMessage } from "../../lib/errors.ts";
import { sha256Hex } from "../../lib/hash.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { type Page, toPage } from "../../lib/pagination.ts";
import { enforceLimit } from "../../lib/rate-limit.ts";
import { newRefreshToken as newOpaqueToken } from "../auth/tokens.ts";
import { isUniqueViolation, type ServiceContext } from "../context.ts";
import { Conflict, NotFound, ServiceUnavailable } from "../errors.ts";
import { notify, notifyAfterCommit } from "../notifications/notify.ts";
import { requireShopPermission } from "./access.ts";
import { maskDestination } from "./otp.ts";
import { cursorAfter } from "./queries.ts";

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const inviteStaffInput = z.object({
  email: z
    .email()
    .max(254)
    .transform((e) => e.toLowerCase()),
  role: z.enum(["manager", "staff"]),
});
export type InviteStaffInput = z.input<typeof inviteStaffInput>;

/** 256 random bits in base64url, as the invitation email carries it. */
export const invitationTokenInput = z.object({
  token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be the token from the invitation email"),
});
export type InvitationTokenInput = z.input<typeof invitationTokenInput>;

export interface InvitationSent {
  id: string;
  /** Masked, as the OTP's `sentTo` is: the answer says nothing about an account. */
  sentTo: string;
  role: "manager" | "staff";
  expiresAt: string;
}

export interface PendingInvitationView {
  id: string;
  email: string;
  role: "manager" | "staff";
  invitedBy: string;
  createdAt: string;
  expiresAt: string;
}

export interface JoinedShop {
  shopId: string;
  shopName: string;
  role: "manager" | "staff";
  joinedAt: string;
}

const isOpen = and(
  isNull(shopInvitations.acceptedAt),
  isNull(shopInvitations.declinedAt),
  isNull(shopInvitations.revokedAt),
);

/** Invitations only ever name manager or staff; the enum column is shared with members. */
function invitedRole(inv: ShopInvitation): "manager" | "staff" {
  if (inv.role === "owner") throw new Error(`invitation ${inv.id} names the owner role`);
  return inv.role;
}

/**
 * The owner invites an email to the team as manager or staff. The answer is the same whether or
 * not an account uses the address (nothing here looks one up, except among the team the owner
 * can already list: a member's email answers 409). A pending invitation to the same email is
 * replaced. The token travels once, by email; only its SHA-256 is kept.
 */
export async function inviteStaff(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  raw: InviteStaffInput,
): Promise<InvitationSent> {
  const input = inviteStaffInput.parse(raw);
  // Permission before the limits, so a stranger cannot spend the owner's budget.
  const { shop } = await requireShopPermission(ctx.db, shopId, userId, "team.manage");
  await enforceLimit(ctx.redis, "staff.invite.shop", `shop:${shopId}`);
  await enforceLimit(ctx.redis, "staff.invite.user", `user:${userId}`);
  const token = newOpaqueToken();
  const tokenHash = await sha256Hex(token);
  let sent: { id: string; expiresAt: Date };
  try {
    sent = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      const [member] = await tx
        .select({ role: shopMembers.role })
        .from(shopMembers)
        .innerJoin(users, eq(users.id, shopMembers.userId))
        .where(
          and(
            eq(shopMembers.shopId, shopId),
            eq(users.email, input.email),
            isNull(users.deletedAt),
          ),
        );
      if (member) throw new Conflict(`This email is already on the team as ${member.role}.`);
      const now = new Date();
      const replaced = await tx
        .update(shopInvitations)
        .set({ revokedAt: now })
        .where(
          and(eq(shopInvitations.shopId, shopId), eq(shopInvitations.email, input.email), isOpen),
        )
        .returning({ id: shopInvitations.id });
      const id = uuidv7();
      const expiresAt = new Date(now.getTime() + INVITATION_TTL_MS);
      await tx.insert(shopInvitations).values({
        id,
        shopId,
        email: input.email,
        role: input.role,
        tokenHash,
        invitedBy: userId,
        expiresAt,
      });
      await audit.record({
        action: "shop.invitation.created",
        entityType: "shop",
        entityId: shopId,
        newValue: {
          invitationId: id,
          email: input.email,
          role: input.role,
          expiresAt: expiresAt.toISOString(),
          replaced: replaced.map((r) => r.id),
        },
      });
      return { id, expiresAt };
    });
  } catch (err) {
    if (isUniqueViolation(err, "shop_invitations_one_open_key")) {
      throw new Conflict("Another invitation to this email was sent at the same moment.");
    }
    throw err;
  }
  const roleName = input.role === "manager" ? "a manager" : "staff";
  const text =
    `You are invited to join the team of ${shop.name} on Souk as ${roleName}.\n\n` +
    `Invitation token: ${token}\n\n` +
    `Sign in to Souk with this email address (register with it first if you have no account) ` +
    `and accept with POST /v1/staff-invitations/accept {"token": "<the token>"}, or decline ` +
    `with POST /v1/staff-invitations/decline. It works once and expires on ` +
    `${sent.expiresAt.toISOString()}. If you did not expect it, ignore this message.`;
  try {
    await notify(ctx.queue, {
      kind: "shop.invitation",
      title: `Join ${shop.name} on Souk`,
      // No userId: the invitation goes to the address, whether or not an account uses it.
      body: "An invitation to a shop's team was sent.",
      data: { shopId, invitationId: sent.id },
      dedupeKey: `shop-invitation:${sent.id}`,
      email: { to: input.email, subject: `Join the team of ${shop.name} on Souk`, text },
    });
  } catch (err) {
    ctx.logger.error("could not enqueue a staff invitation", {
      shopId,
      invitationId: sent.id,
      error: errorMessage(err),
    });
    throw new ServiceUnavailable("The invitation could not be sent; invite again shortly.");
  }
  return {
    id: sent.id,
    sentTo: maskDestination(input.email),
    role: input.role,
    expiresAt: sent.expiresAt.toISOString(),
  };
}

/** The shop's pending invitations (not answered, revoked or expired), newest first. Owner. */
export async function listInvitations(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  query: { limit: number; cursor?: string | undefined },
): Promise<Page<PendingInvitationView>> {
  const after = cursorAfter(query.cursor);
  await requireShopPermission(ctx.db, shopId, userId, "team.manage");
  const rows = await ctx.db
    .select()
    .from(shopInvitations)
    .where(
      and(
        eq(shopInvitations.shopId, shopId),
        isOpen,
        gt(shopInvitations.expiresAt, new Date()),
        after ? lt(shopInvitations.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(shopInvitations.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit, (r) => ({ id: r.id }));
  return {
    items: page.items.map((r) => ({
      id: r.id,
      email: r.email,
      role: invitedRole(r),
      invitedBy: r.invitedBy,
      createdAt: r.createdAt.toISOString(),
      expiresAt: r.expiresAt.toISOString(),
    })),
    nextCursor: page.nextCursor,
  };
}

/** Why an invitation can no longer be answered, or null while it is pending. */
function closedReason(inv: ShopInvitation, now: Date): string | null {
  if (inv.acceptedAt) return "has already been accepted";
  if (inv.declinedAt) return "was declined";
  if (inv.revokedAt) return "was revoked or replaced by a newer one";
  if (inv.expiresAt.getTime() <= now.getTime()) return "has expired";
  return null;
}

/** The owner revokes a pending invitation; its token stops working at once. */
export async function revokeInvitation(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  invitationId: string,
): Promise<void> {
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    await requireShopPermission(tx, shopId, userId, "team.manage");
    const [inv] = await tx
      .select()
      .from(shopInvitations)
      .where(and(eq(shopInvitations.id, invitationId), eq(shopInvitations.shopId, shopId)))
      .for("update");
    if (!inv) throw new NotFound("invitation", invitationId);
    const now = new Date();
    const closed = closedReason(inv, now);
    if (closed) throw new Conflict(`This invitation ${closed}.`);
    await tx.update(shopInvitations).set({ revokedAt: now }).where(eq(shopInvitations.id, inv.id));
    await audit.record({
      action: "shop.invitation.revoked",
      entityType: "shop",
      entityId: shopId,
      oldValue: { invitationId: inv.id, email: inv.email, role: inv.role },
    });
  });
}

/**
 * The pending invitation this token opens for this account, locked. An unknown token and a token
 * sent to another email answer the same 404, so the token says nothing to the wrong account;
 * only its rightful addressee learns that it was used, revoked or has expired (409).
 */
async function invitationFor(tx: Tx, userId: string, token: string): Promise<ShopInvitation> {
  const tokenHash = await sha256Hex(token);
  const [inv] = await tx
    .select()
    .from(shopInvitations)
    .where(eq(shopInvitations.tokenHash, tokenHash))
    .for("update");
  const [account] = await tx
    .select({ email: users.email })
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)));
  if (!inv || !account || inv.email !== account.email) {
    throw new NotFound("An invitation for this account with this token");
  }
  const closed = closedReason(inv, new Date());
  if (closed) throw new Conflict(`This invitation ${closed}; ask the shop for a new one.`);
  return inv;
}

/**
 * The invitee, signed in with the invited email, joins the team with the invited role. The
 * membership, the spent token and the audit row commit together; the inviter is told after.
 */
export async function acceptInvitation(
  ctx: ServiceContext,
  userId: string,
  raw: InvitationTokenInput,
): Promise<JoinedShop> {
  const { token } = invitationTokenInput.parse(raw);
  const joined = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const inv = await invitationFor(tx, userId, token);
    const [shop] = await tx
      .select({ name: shops.name })
      .from(shops)
      .where(and(eq(shops.id, inv.shopId), isNull(shops.deletedAt)));
    if (!shop) throw new NotFound("shop", inv.shopId);
    const role = invitedRole(inv);
    const [member] = await tx
      .insert(shopMembers)
      .values({ shopId: inv.shopId, userId, role })
      .onConflictDoNothing()
      .returning();
    if (!member) throw new Conflict("You are already on this shop's team.");
    await tx
      .update(shopInvitations)
      .set({ acceptedAt: member.createdAt, acceptedBy: userId })
      .where(eq(shopInvitations.id, inv.id));
    await audit.record({
      action: "shop.member.added",
      entityType: "shop",
      entityId: inv.shopId,
      newValue: { userId, role, invitationId: inv.id },
    });
    return {
      invitedBy: inv.invitedBy,
      view: {
        shopId: inv.shopId,
        shopName: shop.name,
        role,
        joinedAt: member.createdAt.toISOString(),
      },
    };
  });
  const { view } = joined;
  await notifyAfterCommit(ctx.queue, ctx.logger, {
    userId: joined.invitedBy,
    kind: "shop.invitation.accepted",
    title: `A new ${view.role === "manager" ? "manager" : "staff member"} joined ${view.shopName}`,
    body: `Your invitation to ${view.shopName} was accepted.`,
    data: { shopId: view.shopId, userId, role: view.role },
    dedupeKey: `shop-invitation-accepted:${view.shopId}:${userId}:${view.joinedAt}`,
  });
  return view;
}

/** The invitee, signed in with the invited email, declines; the token stops working. */
export async function declineInvitation(
  ctx: ServiceContext,
  userId: string,
  raw: InvitationTokenInput,
): Promise<void> {
  const { token } = invitationTokenInput.parse(raw);
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const inv = await invitationFor(tx, userId, token);
    await tx
      .update(shopInvitations)
      .set({ declinedAt: new Date() })
      .where(eq(shopInvitations.id, inv.id));
    await audit.record({
      action: "shop.invitation.declined",
      entityType: "shop",
      entityId: inv.shopId,
      newValue: { invitationId: inv.id, userId },
    });
  });
}
