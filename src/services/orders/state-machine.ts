import { and, eq } from "drizzle-orm";
import type { AuditRecorder } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import { type Order, type OrderStatus, orders } from "../../db/schema/orders.ts";
import { Conflict, NotFound } from "../errors.ts";

/**
 * The order state machine, written once. Every status change in the codebase goes through
 * `transitionOrder`, which refuses anything not in this table with a 409 naming the current
 * state, and writes the change and its audit row (actor, reason) together.
 *
 * pending_payment → paid → picking → ready → shipped → delivered is the happy path. `paid →
 * picking` happens on the first line a seller decides (picked or missing), `picking → ready` when
 * every line is decided (and `picking → refunded` when every line was missing).
 *
 * Refunds: a full refund ends any paid state (`refunded`). A partial refund is a status only
 * where fulfilment is not under way: before picking (`paid → partially_refunded`, from which
 * picking may still start) and after delivery. During picking, ready and shipped a partial refund
 * (a missing line, a goodwill refund) keeps the fulfilment status, so the order can still move
 * on; `refundedMinor` says how much went back. A payment that succeeds after its order expired
 * or was cancelled unpaid is recorded and refunded; a paid order the buyer cancels becomes
 * `refunded` once Stripe confirms the refund.
 *
 * Pickup (issue 12): `ready → ready_for_pickup → collected` instead of shipped and delivered, no
 * carrier or tracking number; the two pickup states are refused for a delivery order. `collected`
 * counts as `delivered` wherever an order is done (feedback, the feedback request, refunds).
 */
export const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_payment: ["paid", "payment_failed", "expired", "cancelled"],
  // Stripe lets the buyer retry a failed PaymentIntent with another card.
  payment_failed: ["paid", "expired", "cancelled"],
  paid: ["picking", "cancelled", "partially_refunded", "refunded"],
  picking: ["ready", "refunded"],
  ready: ["shipped", "ready_for_pickup", "refunded"],
  shipped: ["delivered", "refunded"],
  delivered: ["partially_refunded", "refunded"],
  ready_for_pickup: ["collected", "refunded"],
  collected: ["partially_refunded", "refunded"],
  // Picking may still start on an order partially refunded before any line was decided (the
  // fulfilment service only starts it while every line is pending).
  partially_refunded: ["picking", "partially_refunded", "refunded"],
  // The late-success path: the money came after the order expired; it goes back.
  expired: ["refunded"],
  cancelled: ["refunded"],
  refunded: [],
};

/** The statuses of a finished order in the buyer's hands: delivered, or collected at a branch. */
export const RECEIVED_STATUSES = [
  "delivered",
  "collected",
] as const satisfies readonly OrderStatus[];

/** States only an order of this fulfilment method may enter. */
export const ONLY_FOR: Partial<Record<OrderStatus, Order["fulfilment"]>> = {
  ready_for_pickup: "pickup",
  collected: "pickup",
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

export class IllegalTransition extends Conflict {
  constructor(
    readonly from: OrderStatus,
    readonly to: OrderStatus,
    orderId: string,
  ) {
    super(`Order ${orderId} is ${from}; it cannot become ${to}.`, {
      currentStatus: from,
      requestedStatus: to,
    });
  }
}

export interface TransitionInput {
  orderId: string;
  to: OrderStatus;
  reason: string;
  /** Other columns that change with the status (paidAt, carrier…). */
  patch?: Partial<Omit<Order, "id" | "status">>;
  /** Only transition from one of these (e.g. a webhook that may only pay a pending order). */
  expectFrom?: readonly OrderStatus[];
}

/**
 * Moves one order to `to` inside the caller's transaction: locks the row, checks the table,
 * updates, and records `order.<to>` with the old and new status and the reason.
 */
export async function transitionOrder(
  tx: Tx,
  audit: AuditRecorder,
  input: TransitionInput,
): Promise<Order> {
  const [current] = await tx
    .select()
    .from(orders)
    .where(eq(orders.id, input.orderId))
    .for("update");
  if (!current) throw new NotFound("order", input.orderId);
  const allowedFrom = input.expectFrom ?? null;
  const only = ONLY_FOR[input.to];
  if (
    !canTransition(current.status, input.to) ||
    (allowedFrom !== null && !allowedFrom.includes(current.status)) ||
    (only !== undefined && current.fulfilment !== only)
  ) {
    throw new IllegalTransition(current.status, input.to, input.orderId);
  }
  const [next] = await tx
    .update(orders)
    .set({ ...input.patch, status: input.to, updatedAt: new Date() })
    .where(and(eq(orders.id, input.orderId), eq(orders.status, current.status)))
    .returning();
  if (!next) throw new IllegalTransition(current.status, input.to, input.orderId);
  await audit.record({
    action: `order.${input.to}`,
    entityType: "order",
    entityId: input.orderId,
    oldValue: { status: current.status },
    newValue: { status: next.status, reason: input.reason },
  });
  return next;
}
