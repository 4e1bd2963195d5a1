import { refusalToError } from "../../../durable-objects/product-stock/types.ts";
import type { ConflictReason, ReservationState } from "../../../durable-objects/product-stock.ts";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import type { Actor } from "../../db/audit.ts";
import type { StockNamespace } from "../context.ts";

/**
 * Order lines held in, committed to, or released from their ProductStock objects (one object
 * per product). The checkout reserves; the payment path (webhook consumer, crons) commits or
 * releases. Every call is idempotent: reserve by a key derived from the holder and the product,
 * commit and release by reservation id, so a retried job or request never holds or sells twice.
 */

/** The binding these helpers need: the Worker's env, or a job's, or a test's. */
/** The stock actor shape the object records; never carries more than it accepts. */
function stockActor(actor: Actor) {
  return { type: actor.type, id: actor.id ?? null, requestId: actor.requestId ?? null };
}

export interface LineToReserve {
  productId: string;
  shopId: string;
  locationId: string;
  quantity: number;
}

export interface HeldLine extends LineToReserve {
  reservationId: string;
  expiresAt: string;
  /** True when the key had already reserved (a retry): nothing new was held. */
  replayed: boolean;
}

export interface LineShortage {
  productId: string;
  locationId: string;
  requested: number;
  available: number;
}

export type ReserveLinesResult =
  | { ok: true; held: HeldLine[] }
  | { ok: false; shortages: LineShortage[] };

/**
 * The reservation key of one product held for `holder` (a checkout id, an auction id…): the same
 * holder and product always name the same reservation, so a retry returns it instead of holding
 * the units twice.
 */
export function reservationKey(holder: string, productId: string): string {
  return `hold:${holder}:${productId}`;
}

/**
 * Reserves every line for `ttlMs`, all or nothing: the lines go to their objects in parallel,
 * and if any is refused (not enough available) or fails, every line that was held is released
 * again before answering. Shortages come back as a value naming each short line; anything else
 * (an unreachable object, a reused key) is thrown after the compensation. At most one line per
 * product (a second line of the same product under one holder would reuse its key).
 */
export async function reserveLines(
  stock: StockNamespace,
  input: {
    holder: string;
    lines: LineToReserve[];
    ttlMs: number;
    actor: Actor;
    /** A released or expired hold of this holder is taken afresh (ProductStock `renew`). */
    renew?: boolean;
  },
): Promise<ReserveLinesResult> {
  const products = new Set(input.lines.map((l) => l.productId));
  if (products.size !== input.lines.length) {
    throw new Error("reserveLines: one line per product");
  }
  const actor = stockActor(input.actor);
  const outcomes = await Promise.allSettled(
    input.lines.map((line) =>
      stockOf(stock, line.productId).reserve({
        productId: line.productId,
        shopId: line.shopId,
        locationId: line.locationId,
        quantity: line.quantity,
        ttlMs: input.ttlMs,
        key: reservationKey(input.holder, line.productId),
        actor,
        ...(input.renew ? { renew: true } : {}),
      }),
    ),
  );
  const held: HeldLine[] = [];
  const shortages: LineShortage[] = [];
  let failure: unknown = null;
  outcomes.forEach((outcome, i) => {
    const line = input.lines[i];
    if (!line) return;
    if (outcome.status === "rejected") {
      failure ??= outcome.reason;
      return;
    }
    const r = outcome.value;
    if (r.ok) {
      held.push({
        ...line,
        reservationId: r.reservationId,
        expiresAt: r.expiresAt,
        replayed: r.replayed,
      });
    } else if (r.code === "INSUFFICIENT_STOCK") {
      shortages.push({
        productId: line.productId,
        locationId: line.locationId,
        requested: line.quantity,
        available: r.available,
      });
    } else {
      failure ??= refusalToError(r);
    }
  });
  if (shortages.length === 0 && failure === null) return { ok: true, held };
  // All or nothing: give back what was taken. A release that fails here is not lost either:
  // the hold expires by the object's alarm at its TTL.
  await Promise.allSettled(
    held.map((h) => stockOf(stock, h.productId).release({ reservationId: h.reservationId, actor })),
  );
  if (failure !== null) throw failure;
  return { ok: false, shortages };
}

/** An order line as the settle helpers need it (order_items rows fit as they are). */
export interface ReservedItem {
  productId: string;
  /** Null for a line that never held stock: skipped. */
  reservationId: string | null;
}

export type SettleOutcome =
  | {
      productId: string;
      reservationId: string;
      ok: true;
      state: ReservationState;
      /** True when it was already in that state: nothing changed now. */
      replayed: boolean;
    }
  | {
      productId: string;
      reservationId: string;
      ok: false;
      code: "NOT_FOUND" | "CONFLICT";
      /** RESERVATION_EXPIRED / RESERVATION_RELEASED on commit, RESERVATION_COMMITTED on release. */
      reason: ConflictReason | null;
      message: string;
    };

type Settle = "commit" | "release";

async function settle(
  stock: StockNamespace,
  items: readonly ReservedItem[],
  actor: Actor,
  op: Settle,
): Promise<SettleOutcome[]> {
  const held = items.flatMap((i) =>
    i.reservationId ? [{ productId: i.productId, reservationId: i.reservationId }] : [],
  );
  const a = stockActor(actor);
  const outcomes = await Promise.allSettled(
    held.map(async (h): Promise<SettleOutcome> => {
      const stub = stockOf(stock, h.productId);
      const input = { reservationId: h.reservationId, actor: a };
      const r = op === "commit" ? await stub.commit(input) : await stub.release(input);
      if (r.ok) return { ...h, ok: true, state: r.state, replayed: r.replayed };
      return {
        ...h,
        ok: false,
        code: r.code,
        reason: r.code === "CONFLICT" ? r.reason : null,
        message: r.message,
      };
    }),
  );
  const failed = outcomes.find((o) => o.status === "rejected");
  if (failed) throw failed.reason;
  return outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
}

/**
 * Sells the held units of every item (payment succeeded). Each item is tried even if another
 * fails; refusals come back per item (an expired hold after a late payment is
 * `RESERVATION_EXPIRED`: the caller refunds), and if any object could not be reached the first
 * such error is thrown after all were tried, so a retry finishes the rest (already committed
 * items answer `replayed`).
 */
export function commitReservations(
  stock: StockNamespace,
  items: readonly ReservedItem[],
  actor: Actor,
): Promise<SettleOutcome[]> {
  return settle(stock, items, actor, "commit");
}

/**
 * Gives the held units of every item back (payment failed, order expired or voided). Releasing
 * an already released or expired hold succeeds (`replayed`); a committed one is refused
 * (`RESERVATION_COMMITTED`). Same retry contract as commitReservations.
 */
export function releaseReservations(
  stock: StockNamespace,
  items: readonly ReservedItem[],
  actor: Actor,
): Promise<SettleOutcome[]> {
  return settle(stock, items, actor, "release");
}
