import type {
  BookingView,
  SlotRefusal,
  SlotView,
} from "../../../durable-objects/delivery-slots/types.ts";
import type { Actor } from "../../db/audit.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import { type SlotsNamespace, slotActor, slotsOf } from "./slots.ts";

/**
 * Delivery windows booked for a checkout, and given back. A booking is keyed by (checkout, shop),
 * so a retried confirm of the same attempt finds its booking instead of taking a second place.
 * It is held like a stock hold: for the payment window and its margin, after which the shop's
 * object asks Postgres how the order ended (paid keeps it; ended unpaid gives it back). A caller
 * that knows sooner (a voided checkout, a cancelled order) releases it at once.
 */

export function slotKey(checkoutId: string, shopId: string): string {
  return `slot:${checkoutId}:${shopId}`;
}

export interface SlotToBook {
  shopId: string;
  slotStart: string;
}

export interface BookedSlot extends BookingView {
  shopId: string;
  replayed: boolean;
}

export interface SlotShortfall {
  shopId: string;
  slotStart: string;
  code: SlotRefusal["code"];
  message: string;
}

export type BookSlotsResult =
  | { ok: true; booked: BookedSlot[] }
  | { ok: false; refused: SlotShortfall[] };

/**
 * Books one window per shop for `checkoutId`, all or nothing: the shops' objects are asked in
 * parallel, and if any refuses (full, past its cut-off, not a window) or fails, every place
 * taken is given back before answering. Refusals come back as a value naming each window;
 * anything else is thrown after the compensation.
 */
export async function bookSlots(
  ns: SlotsNamespace,
  input: {
    checkoutId: string;
    slots: SlotToBook[];
    ttlMs: number;
    actor: Actor;
    /** A released or expired booking under this checkout's key is taken afresh. */
    renew?: boolean;
  },
): Promise<BookSlotsResult> {
  if (input.slots.length === 0) return { ok: true, booked: [] };
  const actor = slotActor(input.actor);
  const outcomes = await Promise.allSettled(
    input.slots.map((s) =>
      slotsOf(ns, s.shopId).book({
        shopId: s.shopId,
        key: slotKey(input.checkoutId, s.shopId),
        checkoutId: input.checkoutId,
        slotStart: s.slotStart,
        ttlMs: input.ttlMs,
        actor,
        ...(input.renew ? { renew: true } : {}),
      }),
    ),
  );
  const booked: BookedSlot[] = [];
  const refused: SlotShortfall[] = [];
  let failure: unknown = null;
  outcomes.forEach((outcome, i) => {
    const s = input.slots[i];
    if (!s) return;
    if (outcome.status === "rejected") {
      failure ??= outcome.reason;
      return;
    }
    const r = outcome.value;
    if (r.ok) {
      const { ok: _ok, ...view } = r;
      booked.push({ ...view, shopId: s.shopId });
    } else {
      refused.push({ shopId: s.shopId, slotStart: s.slotStart, code: r.code, message: r.message });
    }
  });
  if (refused.length === 0 && failure === null) return { ok: true, booked };
  await releaseSlots(
    ns,
    booked.filter((b) => !b.replayed),
    input.actor,
    "another part of the checkout was refused",
  );
  if (failure !== null) throw failure;
  return { ok: false, refused };
}

/**
 * Gives the places of these bookings back. Idempotent (a released or expired booking stays so);
 * a failure is not lost: a held place ends by its object's alarm.
 */
export async function releaseSlots(
  ns: SlotsNamespace,
  bookings: ReadonlyArray<{ shopId: string; key: string }>,
  actor: Actor,
  reason: string,
): Promise<Array<{ shopId: string; ok: boolean }>> {
  const outcomes = await Promise.allSettled(
    bookings.map((b) =>
      slotsOf(ns, b.shopId).release({ key: b.key, actor: slotActor(actor), reason }),
    ),
  );
  return outcomes.map((o, i) => ({
    shopId: bookings[i]?.shopId ?? "",
    ok: o.status === "fulfilled" && (o.value.ok || o.value.code === "NOT_FOUND"),
  }));
}

/**
 * Gives an order's window back (its checkout ended unpaid, or the order was cancelled or
 * refunded). A no-op for an order without a window. Never throws: logged, and a held place
 * ends at its TTL anyway.
 */
export async function releaseOrderSlot(
  ns: SlotsNamespace,
  logger: Logger,
  order: { id: string; shopId: string; checkoutId: string | null; deliverySlotStart: Date | null },
  actor: Actor,
  reason: string,
): Promise<void> {
  if (!order.checkoutId || !order.deliverySlotStart) return;
  const [r] = await releaseSlots(
    ns,
    [{ shopId: order.shopId, key: slotKey(order.checkoutId, order.shopId) }],
    actor,
    reason,
  );
  if (!r?.ok) {
    logger.warn("could not give an order's delivery window back", { orderId: order.id });
  }
}

/**
 * Keeps a paid order's window for good (otherwise its object confirms it when the hold's time
 * runs out, from the order's status). Never throws.
 */
export async function confirmOrderSlot(
  ns: SlotsNamespace,
  logger: Logger,
  order: { id: string; shopId: string; checkoutId: string | null; deliverySlotStart: Date | null },
  actor: Actor,
): Promise<void> {
  if (!order.checkoutId || !order.deliverySlotStart) return;
  try {
    await slotsOf(ns, order.shopId).confirm({
      key: slotKey(order.checkoutId, order.shopId),
      actor: slotActor(actor),
    });
  } catch (err) {
    logger.warn("could not confirm a paid order's delivery window", {
      orderId: order.id,
      error: errorMessage(err),
    });
  }
}

/** How many open windows a checkout preview offers per shop. */
export const OFFERED_SLOTS = 12;

/**
 * The next open windows of each shop (earliest first, at most `limit` each), for a checkout
 * preview. A shop whose object cannot answer offers none rather than failing the preview.
 */
export async function slotOffers(
  ns: SlotsNamespace,
  shopIds: readonly string[],
  limit = OFFERED_SLOTS,
): Promise<Map<string, { configured: boolean; slots: SlotView[] }>> {
  const answers = await Promise.allSettled(
    shopIds.map((id) => slotsOf(ns, id).availability({ openOnly: true })),
  );
  return new Map(
    shopIds.map((id, i) => {
      const a = answers[i];
      return [
        id,
        a?.status === "fulfilled"
          ? { configured: a.value.configured, slots: a.value.slots.slice(0, limit) }
          : { configured: false, slots: [] },
      ];
    }),
  );
}
