import type { LocationLevel, Movement } from "../../../durable-objects/product-stock.ts";
import type { MovementKind, StockMovementRow } from "../../db/schema/stock.ts";
import type { LocationRef } from "./access.ts";

/** A stock movement as the seller API shows it, from the object or from the Postgres mirror. */
export interface MovementView {
  id: string;
  sequence: number;
  productId: string;
  shopId: string | null;
  locationId: string;
  kind: MovementKind;
  deltaOnHand: number;
  deltaReserved: number;
  onHandAfter: number;
  reservedAfter: number;
  availableAfter: number;
  threshold: number | null;
  low: boolean;
  alert: "raised" | "cleared" | null;
  reason: string | null;
  actor: { type: "user" | "system" | "stripe"; id: string | null };
  reservationId: string | null;
  txId: string | null;
  undoesSequence: number | null;
  undoneBySequence: number | null;
  createdAt: string;
}

export function movementView(m: Movement): MovementView {
  return {
    id: m.id,
    sequence: m.sequence,
    productId: m.productId,
    shopId: m.shopId,
    locationId: m.locationId,
    kind: m.kind,
    deltaOnHand: m.deltaOnHand,
    deltaReserved: m.deltaReserved,
    onHandAfter: m.onHandAfter,
    reservedAfter: m.reservedAfter,
    availableAfter: m.availableAfter,
    threshold: m.threshold,
    low: m.low,
    alert: m.alert,
    reason: m.reason,
    actor: { type: m.actor.type, id: m.actor.id },
    reservationId: m.reservationId,
    txId: m.txId,
    undoesSequence: m.undoesSequence,
    undoneBySequence: m.undoneBySequence,
    createdAt: m.createdAt,
  };
}

export function mirrorMovementView(
  r: StockMovementRow,
  undoneBySequence: number | null,
): MovementView {
  return {
    id: r.id,
    sequence: r.sequence,
    productId: r.productId,
    shopId: r.shopId,
    locationId: r.locationId,
    kind: r.kind,
    deltaOnHand: r.deltaOnHand,
    deltaReserved: r.deltaReserved,
    onHandAfter: r.onHandAfter,
    reservedAfter: r.reservedAfter,
    availableAfter: r.onHandAfter - r.reservedAfter,
    threshold: r.lowStockThreshold,
    low: r.lowStock,
    alert: r.alert,
    reason: r.reason,
    actor: { type: r.actorType as MovementView["actor"]["type"], id: r.actorId },
    reservationId: r.reservationId,
    txId: r.txId,
    undoesSequence: r.undoesSequence,
    undoneBySequence,
    createdAt: r.createdAt.toISOString(),
  };
}

export interface LocationStockView {
  locationId: string;
  /** Null for a location the shop has since deleted that still holds stock. */
  code: string | null;
  name: string | null;
  kind: "warehouse" | "branch" | null;
  onHand: number;
  reserved: number;
  available: number;
  threshold: number | null;
  low: boolean;
}

export interface ProductStockView {
  productId: string;
  shopId: string;
  sku: string;
  locations: LocationStockView[];
  totals: { onHand: number; reserved: number; available: number };
  /** The object's last movement sequence (0 before the first). */
  sequence: number;
  /** Movements not yet in the Postgres mirror (the movement list lags by these). */
  pendingMirror: number;
}

/**
 * Every live location of the shop (zeros where nothing was ever stocked), then any location
 * the object still holds stock for that the shop has since deleted.
 */
export function locationStock(
  locations: LocationRef[],
  levels: LocationLevel[],
): LocationStockView[] {
  const byId = new Map(levels.map((l) => [l.locationId, l]));
  const known = new Set(locations.map((l) => l.id));
  const live = locations.map((loc) => {
    const l = byId.get(loc.id);
    return {
      locationId: loc.id,
      code: loc.code,
      name: loc.name,
      kind: loc.kind,
      onHand: l?.onHand ?? 0,
      reserved: l?.reserved ?? 0,
      available: l?.available ?? 0,
      threshold: l?.threshold ?? null,
      low: l?.low ?? false,
    };
  });
  const orphaned = levels
    .filter((l) => !known.has(l.locationId))
    .map((l) => ({ ...l, code: null, name: null, kind: null }));
  return [...live, ...orphaned];
}
