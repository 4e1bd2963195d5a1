import type {
  BookingView,
  SlotRefusal,
  SlotView,
} from "../../../durable-objects/delivery-slots/types.ts";
import type { Actor } from "../../db/audit.ts";
import type { Order } from "../../db/schema/orders.ts";
import { Conflict, errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import type { ServiceContext } from "../context.ts";
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
 * Gives back the windows of orders a refund just ended (`refunded` in full) whose windows have
 * not begun: the place is free for another buyer. A window already under way or past stays as
 * it was. Never throws.
 */
export async function releaseRefundedSlots(
  ctx: Pick<ServiceContext, "slots" | "logger">,
  actor: Actor,
  moved: ReadonlyArray<Order | null>,
): Promise<void> {
  const now = Date.now();
  await Promise.all(
    moved.flatMap((o) =>
      o?.status === "refunded" && o.deliverySlotStart && o.deliverySlotStart.getTime() > now
        ? [releaseOrderSlot(ctx.slots, ctx.logger, o, actor, "order refunded in full")]
        : [],
    ),
  );
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

export interface SlotOffer {
  /** False while the shop has no schedule: it offers no windows. */
  configured: boolean;
  /** The next open windows, earliest first. */
  slots: SlotView[];
}

/**
 * The next open windows of each shop (at most `limit` each), for a checkout preview, and which
 * of the windows the buyer chose (`chosen`, by shop) are not open (full, past their cut-off or
 * not the shop's). A shop whose object cannot answer offers none rather than failing the
 * preview.
 */
export async function slotOffers(
  ns: SlotsNamespace,
  shopIds: readonly string[],
  chosen: ReadonlyMap<string, string>,
  limit = OFFERED_SLOTS,
): Promise<{ offers: Map<string, SlotOffer>; unavailable: SlotToBook[] }> {
  const answers = await Promise.allSettled(
    shopIds.map((id) => slotsOf(ns, id).availability({ openOnly: true })),
  );
  const offers = new Map<string, SlotOffer>();
  const unavailable: SlotToBook[] = [];
  shopIds.forEach((id, i) => {
    const a = answers[i];
    const open = a?.status === "fulfilled" ? a.value.slots : [];
    offers.set(id, {
      configured: a?.status === "fulfilled" && a.value.configured,
      slots: open.slice(0, limit),
    });
    const want = chosen.get(id);
    if (want && !open.some((s) => Date.parse(s.start) === Date.parse(want))) {
      unavailable.push({ shopId: id, slotStart: want });
    }
  });
  return { offers, unavailable };
}

const REFUSED: Record<string, string> = {
  SLOT_FULL: "is full",
  SLOT_CLOSED: "no longer takes orders (past its cut-off)",
  SLOT_UNKNOWN: "is not one of this shop's delivery windows",
  NOT_CONFIGURED: "cannot be booked: this shop has no delivery windows",
};

/**
 * The 409 for windows a confirm could not book, naming each `fulfilment.N.slotStart` (`fieldOf`
 * gives the field of a shop's entry).
 */
export function slotsRefused(
  refused: readonly SlotShortfall[],
  fieldOf: (shopId: string) => string,
): Conflict {
  const first = refused[0];
  const named = refused.map((r) => `${r.slotStart} (${REFUSED[r.code] ?? r.message})`);
  return new Conflict(
    `The delivery window ${named.join("; ")}: choose another (the preview lists the open ones).`,
    {
      reason: first ? `slot_${first.code.replace(/^SLOT_/, "").toLowerCase()}` : "slot_refused",
      field: first ? fieldOf(first.shopId) : "slotStart",
      slotStart: first?.slotStart,
      slots: refused.map((r) => ({
        shopId: r.shopId,
        field: fieldOf(r.shopId),
        slotStart: r.slotStart,
        code: r.code,
      })),
    },
  );
}

/** A checkout's shop as the booking needs it: its entry's index and the buyer's choice. */
export interface CheckoutShopChoice {
  shopId: string;
  index: number;
  choice: { method: "delivery"; slotStart?: string | undefined } | { method: "pickup" };
}

export type CheckoutSlotsResult =
  | { ok: true; booked: BookedSlot[] }
  | { ok: false; error: Conflict };

/**
 * Books the windows a confirm's delivery entries chose (`slotStart`), all or nothing, held for
 * `ttlMs` under the checkout's keys (a retry of the attempt finds them). A refusal is a 409
 * naming each `fulfilment.N.slotStart`; nothing chosen books nothing.
 */
export async function bookCheckoutSlots(
  ctx: Pick<ServiceContext, "actor" | "slots">,
  checkoutId: string,
  shops: readonly CheckoutShopChoice[],
  ttlMs: number,
): Promise<CheckoutSlotsResult> {
  const wanted = shops.flatMap((s) =>
    s.choice.method === "delivery" && s.choice.slotStart
      ? [{ shopId: s.shopId, slotStart: s.choice.slotStart }]
      : [],
  );
  if (wanted.length === 0) return { ok: true, booked: [] };
  const ns = ctx.slots;
  const r = await bookSlots(ns, {
    checkoutId,
    slots: wanted,
    ttlMs,
    actor: ctx.actor,
    renew: true,
  });
  if (r.ok) return r;
  const indexOf = new Map(shops.map((s) => [s.shopId, s.index]));
  return {
    ok: false,
    error: slotsRefused(r.refused, (id) => `fulfilment.${indexOf.get(id) ?? 0}.slotStart`),
  };
}

/** Gives a failed confirm's windows back; never throws (a held place ends at its TTL). */
export async function releaseCheckoutSlots(
  ctx: Pick<ServiceContext, "actor" | "logger" | "slots">,
  checkoutId: string,
  booked: readonly BookedSlot[],
  reason: string,
): Promise<void> {
  const ns = ctx.slots;
  if (booked.length === 0) return;
  const released = await releaseSlots(
    ns,
    booked.map((b) => ({ shopId: b.shopId, key: slotKey(checkoutId, b.shopId) })),
    ctx.actor,
    reason,
  );
  if (released.some((r) => !r.ok)) {
    ctx.logger.warn("could not give a checkout's delivery windows back; they will expire", {
      checkoutId,
    });
  }
}

/** The booked window of each shop, as the purchase write stores it on the order. */
export function slotOfShop(
  booked: readonly BookedSlot[],
): (shopId: string) => { start: string; end: string } | null {
  const byShop = new Map(booked.map((b) => [b.shopId, { start: b.slotStart, end: b.slotEnd }]));
  return (shopId) => byShop.get(shopId) ?? null;
}

export interface SlotWarning {
  code: "slot_unavailable";
  shopId: string;
  slotStart: string;
  message: string;
}

/**
 * What a checkout preview shows of delivery windows: for each shop delivered to, its next open
 * windows; and a warning for each chosen window that confirm would refuse now.
 */
export async function previewSlots(
  ctx: Pick<ServiceContext, "slots">,
  shops: ReadonlyArray<{ shopId: string; fulfilment: { method: "delivery" | "pickup" } }>,
  fulfilment: ReadonlyArray<{ shopId: string; method: string; slotStart?: string | undefined }>,
): Promise<{ offers: Map<string, SlotOffer>; warnings: SlotWarning[] }> {
  const ns = ctx.slots;
  const delivered = shops.filter((s) => s.fulfilment.method === "delivery").map((s) => s.shopId);
  if (delivered.length === 0) return { offers: new Map(), warnings: [] };
  const chosen = new Map(
    fulfilment.flatMap((f) =>
      f.method === "delivery" && f.slotStart ? [[f.shopId, f.slotStart]] : [],
    ),
  ) as Map<string, string>;
  const { offers, unavailable } = await slotOffers(ns, delivered, chosen);
  return {
    offers,
    warnings: unavailable.map((u) => ({
      code: "slot_unavailable",
      shopId: u.shopId,
      slotStart: u.slotStart,
      message: `The delivery window ${u.slotStart} cannot be booked now (full, closed or not one of the shop's); choose one of deliverySlots.`,
    })),
  };
}
