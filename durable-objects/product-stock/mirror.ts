/**
 * The Postgres side of ProductStock's outbox: mirrors movements into `stock_movements` and
 * writes one audit row per movement, both in one transaction (invariants 2 and the outbox's
 * "nothing lost, nothing doubled").
 */
import { and, eq, inArray } from "drizzle-orm";
import { recordAudits } from "../../src/db/audit.ts";
import type { Database } from "../../src/db/client.ts";
import { stockMovements } from "../../src/db/schema/stock.ts";
import type { Movement, MovementKind } from "./types.ts";

export const AUDIT_ACTIONS: Record<MovementKind, string> = {
  adjust: "stock.adjusted",
  set: "stock.set",
  reserve: "stock.reserved",
  commit: "stock.committed",
  release: "stock.released",
  expire: "stock.expired",
  undo: "stock.undone",
  hold: "stock.held",
  bulk: "stock.bulk_applied",
  hold_release: "stock.hold_released",
  hold_expire: "stock.hold_expired",
  threshold: "stock.threshold_set",
};

/** A mirror row already holds this (product, sequence) with another movement: never overwrite. */
export class MirrorDivergence extends Error {
  override name = "MirrorDivergence";
}

/**
 * Inserts the movements (all of one product) that Postgres does not hold yet, and audits
 * exactly those. Safe to call again with the same rows: the unique (product_id, sequence) makes
 * a repeat insert nothing and audit nothing. Returns how many rows were new.
 */
export async function mirrorMovements(db: Database, movements: Movement[]): Promise<number> {
  const first = movements[0];
  if (!first) return 0;
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(stockMovements)
      .values(
        movements.map((m) => ({
          id: m.id,
          productId: m.productId,
          shopId: m.shopId,
          locationId: m.locationId,
          sequence: m.sequence,
          kind: m.kind,
          deltaOnHand: m.deltaOnHand,
          deltaReserved: m.deltaReserved,
          onHandAfter: m.onHandAfter,
          reservedAfter: m.reservedAfter,
          lowStockThreshold: m.threshold,
          lowStock: m.low,
          alert: m.alert,
          reason: m.reason,
          actorType: m.actor.type,
          actorId: m.actor.id,
          requestId: m.actor.requestId,
          reservationId: m.reservationId,
          txId: m.txId,
          undoesSequence: m.undoesSequence,
          createdAt: new Date(m.createdAt),
        })),
      )
      .onConflictDoNothing({ target: [stockMovements.productId, stockMovements.sequence] })
      .returning({ sequence: stockMovements.sequence });
    const fresh = new Set(inserted.map((r) => r.sequence));

    const skipped = movements.filter((m) => !fresh.has(m.sequence));
    if (skipped.length > 0) {
      // A skipped row must be this very movement mirrored earlier. Anything else (an object whose
      // storage was reset and reuses sequences) would be silently lost, so fail loudly instead.
      const existing = await tx
        .select({ id: stockMovements.id, sequence: stockMovements.sequence })
        .from(stockMovements)
        .where(
          and(
            eq(stockMovements.productId, first.productId),
            inArray(
              stockMovements.sequence,
              skipped.map((m) => m.sequence),
            ),
          ),
        );
      const ids = new Map(existing.map((r) => [r.sequence, r.id]));
      const diverged = skipped.find((m) => ids.get(m.sequence) !== m.id);
      if (diverged) {
        throw new MirrorDivergence(
          `stock_movements already holds product ${diverged.productId} sequence ${diverged.sequence} with another movement`,
        );
      }
    }

    // One INSERT for the batch's audit rows: a distant database costs one round trip, not 100.
    await recordAudits(
      tx,
      movements
        .filter((m) => fresh.has(m.sequence))
        .map((m) => ({
          actor: m.actor,
          entry: {
            action: AUDIT_ACTIONS[m.kind],
            entityType: "stock_movement",
            entityId: m.id,
            oldValue: {
              onHand: m.onHandAfter - m.deltaOnHand,
              reserved: m.reservedAfter - m.deltaReserved,
            },
            newValue: {
              productId: m.productId,
              shopId: m.shopId,
              locationId: m.locationId,
              sequence: m.sequence,
              kind: m.kind,
              deltaOnHand: m.deltaOnHand,
              deltaReserved: m.deltaReserved,
              onHand: m.onHandAfter,
              reserved: m.reservedAfter,
              threshold: m.threshold,
              alert: m.alert,
              reason: m.reason,
              reservationId: m.reservationId,
              txId: m.txId,
              undoesSequence: m.undoesSequence,
            },
          },
        })),
    );
    return fresh.size;
  });
}
