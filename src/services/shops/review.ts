import { and, desc, eq, isNull, lt } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { type Shop, shops } from "../../db/schema/shops.ts";
import type { Page } from "../../lib/pagination.ts";
import { toPage } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import { bumpCatalogVersion } from "../catalog/cache-keys.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, NotFound } from "../errors.ts";
import { notifyAfterCommit } from "../notifications/notify.ts";
import { cursorAfter } from "./queries.ts";
import { managedView, reviewState, type ShopManagedView } from "./views.ts";

type Status = Shop["status"];
export type ReviewAction = "approve" | "reject" | "suspend";

/**
 * Which states each admin action accepts. Approving also reinstates a rejected or suspended
 * shop; rejecting is for applications; suspending is for live shops.
 */
const TRANSITIONS: Record<ReviewAction, { from: readonly Status[]; to: Status; past: string }> = {
  approve: { from: ["pending", "rejected", "suspended"], to: "approved", past: "approved" },
  reject: { from: ["pending"], to: "rejected", past: "rejected" },
  suspend: { from: ["approved"], to: "suspended", past: "suspended" },
};

export const reviewReasonInput = z.object({
  reason: text().trim().min(3).max(1000),
});

export const adminShopQuery = z.object({
  status: z.enum(["pending", "approved", "rejected", "suspended"]).optional(),
});

/** Every shop for the admin queue, newest first, optionally of one status. */
export async function listShopsForReview(
  ctx: ServiceContext,
  query: { status?: Status | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<ShopManagedView>> {
  const after = cursorAfter(query.cursor);
  const rows = await ctx.db
    .select()
    .from(shops)
    .where(
      and(
        isNull(shops.deletedAt),
        query.status ? eq(shops.status, query.status) : undefined,
        after ? lt(shops.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(shops.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit, (s) => ({ id: s.id }));
  return { items: page.items.map((s) => managedView(s, null)), nextCursor: page.nextCursor };
}

/**
 * An admin's decision on a shop: one status change and exactly one audit row (old and new
 * status) in one transaction, then a notice to the owner (in-app) and the shop's contact email.
 * Approval needs the contact email OTP-verified; a transition the table does not allow answers
 * CONFLICT and writes nothing.
 */
export async function reviewShop(
  ctx: ServiceContext,
  shopId: string,
  action: ReviewAction,
  reason: string | null,
): Promise<ShopManagedView> {
  const rule = TRANSITIONS[action];
  const shop = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [before] = await tx
      .select()
      .from(shops)
      .where(and(eq(shops.id, shopId), isNull(shops.deletedAt)))
      .for("update");
    if (!before) throw new NotFound("shop", shopId);
    if (!rule.from.includes(before.status)) {
      throw new Conflict(`A ${before.status} shop cannot be ${rule.past}.`, {
        currentStatus: before.status,
      });
    }
    if (action === "approve" && !before.emailVerifiedAt) {
      throw new Conflict(
        "The shop's contact email is not OTP-verified yet, so it cannot be approved.",
        { currentStatus: before.status, reason: "EMAIL_NOT_VERIFIED" },
      );
    }
    const now = new Date();
    const [after] = await tx
      .update(shops)
      .set({
        status: rule.to,
        statusReason: reason,
        approvedAt: action === "approve" ? now : before.approvedAt,
        updatedAt: now,
      })
      .where(eq(shops.id, shopId))
      .returning();
    if (!after) throw new NotFound("shop", shopId);
    await audit.record({
      action: `shop.${rule.past}`,
      entityType: "shop",
      entityId: shopId,
      oldValue: reviewState(before),
      newValue: reviewState(after),
    });
    return after;
  });
  // The shop's visibility changes, so cached catalog pages holding its products must go.
  await bumpCatalogVersion(ctx.cache, { kind: "shop", shopId });
  const why = reason ? ` Reason: ${reason}` : "";
  const title = `Your shop ${shop.name} was ${rule.past}`;
  const body =
    action === "approve" ? "Buyers can now find your shop." : `Buyers cannot see it.${why}`;
  await notifyAfterCommit(ctx.queue, ctx.logger, {
    userId: shop.ownerId,
    kind: `shop.${rule.past}`,
    title,
    body,
    data: { shopId, status: shop.status },
    dedupeKey: `shop-review:${shopId}:${shop.updatedAt.getTime()}`,
    email: { to: shop.contactEmail, subject: title, text: `${title}. ${body}` },
  });
  return managedView(shop, null);
}
