import { eq } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Order } from "../../db/schema/orders.ts";
import { orders } from "../../db/schema/orders.ts";
import { type OpeningHours, shopLocations } from "../../db/schema/shops.ts";
import { parseOr422 } from "../../lib/input.ts";
import { enforceLimit } from "../../lib/rate-limit.ts";
import {
  checkOneTimeCode,
  generateOneTimeCode,
  hashOneTimeCode,
  oneTimeCode,
  wrongCodeError,
} from "../auth/one-time-code.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, NotFound } from "../errors.ts";
import { askForFeedback } from "../notifications/feedback-request.ts";
import { notifyAfterCommit } from "../notifications/notify.ts";
import { userNotice } from "../payments/notices.ts";
import { requireShopOrder } from "./queries.ts";
import { lockOrder } from "./refunds.ts";
import { IllegalTransition, transitionOrder } from "./state-machine.ts";
import { type OrderDetailView, orderDetail } from "./views.ts";

/**
 * Pickup at a branch (issue 12): the seller marks a pickup order `ready → ready_for_pickup`,
 * which issues a 6-digit pickup code sent only to the buyer (with the branch's address and
 * hours); staff enter the code the buyer shows to make it `collected`. Only the code's HMAC is
 * stored, bound to the order. Five wrong codes void it (marking the order ready again issues a
 * new one), and entering codes is rate-limited per order. No carrier or tracking number.
 */

/** A pickup code stays good while the order waits at the branch; this only bounds the check. */
const CODE_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;

const binding = (orderId: string) => [orderId, "pickup"];

export const collectInput = z.object({ code: oneTimeCode });

const WEEKDAY_NAMES: Record<string, string> = {
  mon: "Mon",
  tue: "Tue",
  wed: "Wed",
  thu: "Thu",
  fri: "Fri",
  sat: "Sat",
  sun: "Sun",
};

/** "Mon 08:00–20:00; Sat 09:00–13:00" (closed days left out), or null without hours. */
export function describeHours(hours: OpeningHours | null | undefined): string | null {
  if (!hours) return null;
  const parts = Object.entries(WEEKDAY_NAMES).flatMap(([day, name]) => {
    const spans = hours[day as keyof OpeningHours] ?? [];
    return spans.length === 0
      ? []
      : [`${name} ${spans.map((s) => `${s.open}–${s.close}`).join(", ")}`];
  });
  return parts.length > 0 ? parts.join("; ") : null;
}

async function branchOf(ctx: ServiceContext, order: Order) {
  if (!order.pickupLocationId) return null;
  const [branch] = await ctx.db
    .select()
    .from(shopLocations)
    .where(eq(shopLocations.id, order.pickupLocationId));
  return branch ?? null;
}

function requirePickup(order: Order): void {
  if (order.fulfilment !== "pickup") {
    throw new Conflict(`Order ${order.id} is for delivery; ship it instead.`, {
      reason: "not_pickup",
      currentStatus: order.status,
    });
  }
}

/**
 * Owner or manager: a picked pickup order is ready at its branch (`ready → ready_for_pickup`),
 * and the buyer is sent the pickup code with the branch's address and hours. On an order
 * already waiting at the branch, a new code replaces the old one (after five wrong tries, or
 * when the buyer lost it) and is sent again. The code is never in the answer: only the buyer
 * has it.
 */
export async function markReadyForPickup(
  ctx: ServiceContext,
  userId: string,
  orderId: string,
): Promise<OrderDetailView> {
  const found = await requireShopOrder(ctx.db, userId, orderId, "orders.ship");
  requirePickup(found);
  const code = generateOneTimeCode();
  const codeHash = await hashOneTimeCode(ctx.config.PASSWORD_PEPPER, binding(orderId), code);
  const now = new Date();
  const { order, reissued } = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const locked = await lockOrder(tx, orderId);
    if (!locked) throw new NotFound("order", orderId);
    if (locked.status === "ready_for_pickup") {
      const [next] = await tx
        .update(orders)
        .set({ pickupCodeHash: codeHash, pickupCodeFailures: 0, updatedAt: now })
        .where(eq(orders.id, orderId))
        .returning();
      await audit.record({
        action: "order.pickup_code_reissued",
        entityType: "order",
        entityId: orderId,
        oldValue: { failures: locked.pickupCodeFailures, live: locked.pickupCodeHash !== null },
        newValue: { failures: 0, live: true },
      });
      return { order: next ?? locked, reissued: true };
    }
    const next = await transitionOrder(tx, audit, {
      orderId,
      to: "ready_for_pickup",
      reason: "ready at the branch for pickup",
      expectFrom: ["ready"],
      patch: { pickupCodeHash: codeHash, pickupCodeFailures: 0, readyForPickupAt: now },
    });
    return { order: next, reissued: false };
  });
  const branch = await branchOf(ctx, order);
  const hours = describeHours(branch?.openingHours);
  const where = branch
    ? `${branch.name}${branch.address ? `, ${branch.address.line1}, ${branch.address.city}` : ""}`
    : "the shop's branch";
  await notifyAfterCommit(
    ctx.queue,
    ctx.logger,
    await userNotice(ctx.db, {
      userId: order.buyerId,
      kind: "order.ready_for_pickup",
      title: `Order ${order.id.slice(-8)} is ready for pickup`,
      body:
        (reissued
          ? `Your new pickup code for ${where} is ${code}; the old one no longer works.`
          : `Your order is ready at ${where}. Show the pickup code ${code} at the counter.`) +
        (hours ? ` Opening hours: ${hours}.` : ""),
      // A new code is a new notice; the same code is never sent twice.
      dedupeKey: `order-ready-for-pickup:${order.id}:${codeHash.slice(0, 16)}`,
      data: {
        orderId: order.id,
        pickupCode: code,
        branch: branch
          ? {
              id: branch.id,
              name: branch.name,
              address: branch.address ?? null,
              openingHours: branch.openingHours,
            }
          : null,
      },
    }),
  );
  return orderDetail(ctx.db, order);
}

/**
 * Owner, manager or staff: the buyer showed the pickup code; the order is `collected` and the
 * buyer is asked, once, to rate it. A wrong code is a 422 saying how many tries are left (five
 * per code; the fifth voids it); a voided code or an order not waiting at the branch is a 409.
 * Attempts are rate-limited per order on top.
 */
export async function collectOrder(
  ctx: ServiceContext,
  userId: string,
  orderId: string,
  raw: unknown,
): Promise<OrderDetailView> {
  const input = parseOr422(collectInput, raw);
  const found = await requireShopOrder(ctx.db, userId, orderId, "orders.pick");
  requirePickup(found);
  await enforceLimit(ctx.redis, "pickup.collect", `order:${orderId}`);
  const outcome = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const locked = await lockOrder(tx, orderId);
    if (!locked) throw new NotFound("order", orderId);
    if (locked.status !== "ready_for_pickup") {
      throw new IllegalTransition(locked.status, "collected", orderId);
    }
    if (!locked.pickupCodeHash) {
      throw new Conflict(
        "The pickup code was voided after too many wrong tries; mark the order ready for " +
          "pickup again to send the buyer a new one.",
        { reason: "pickup_code_void", currentStatus: locked.status },
      );
    }
    const check = await checkOneTimeCode(
      ctx.config.PASSWORD_PEPPER,
      {
        codeHash: locked.pickupCodeHash,
        expiresAt: new Date((locked.readyForPickupAt ?? new Date()).getTime() + CODE_LIFETIME_MS),
        failedAttempts: locked.pickupCodeFailures,
      },
      binding(orderId),
      input.code,
    );
    if (check.kind === "wrong") {
      await tx
        .update(orders)
        .set({
          pickupCodeFailures: check.failedAttempts,
          ...(check.exhausted ? { pickupCodeHash: null } : {}),
        })
        .where(eq(orders.id, orderId));
      await audit.record({
        action: "order.pickup_code_failed",
        entityType: "order",
        entityId: orderId,
        oldValue: { failures: locked.pickupCodeFailures },
        newValue: { failures: check.failedAttempts, voided: check.exhausted },
      });
      return { wrong: check.remaining } as const;
    }
    if (check.kind === "expired") {
      throw new Conflict("The pickup code has expired; mark the order ready again.", {
        reason: "pickup_code_expired",
      });
    }
    const next = await transitionOrder(tx, audit, {
      orderId,
      to: "collected",
      reason: "collected at the branch with the pickup code",
      expectFrom: ["ready_for_pickup"],
      patch: { collectedAt: new Date(), pickupCodeHash: null },
    });
    return { order: next } as const;
  });
  if ("wrong" in outcome) throw wrongCodeError(outcome.wrong ?? 0);
  await askForFeedback(ctx, orderId);
  return orderDetail(ctx.db, outcome.order);
}
