import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { ActorView, ProductStock } from "../../durable-objects/product-stock.ts";
import { uuidv7 } from "../../src/lib/ids.ts";

export type StockStub = DurableObjectStub<ProductStock>;

/** A fresh ProductStock object (its own product id), so tests never share stock. */
export function newProduct(): { productId: string; stub: StockStub } {
  const productId = uuidv7();
  return { productId, stub: env.PRODUCT_STOCK.get(env.PRODUCT_STOCK.idFromName(productId)) };
}

export function seller(): ActorView {
  return { type: "user", id: uuidv7(), requestId: `req-${uuidv7()}` };
}

/** Puts a location's on hand at `quantity` through a `set` movement. */
export async function stockUp(
  stub: StockStub,
  productId: string,
  locationId: string,
  quantity: number,
): Promise<void> {
  const result = await stub.adjust({
    productId,
    locationId,
    mode: "set",
    quantity,
    reason: "initial count",
    actor: seller(),
    key: `stock-up-${uuidv7()}`,
  });
  if (!result.ok) throw new Error(`could not stock up: ${result.code}`);
}

/** Moves a reservation's expiry into the past, as if its TTL had run out. */
export async function backdateReservation(stub: StockStub, reservationId: string): Promise<void> {
  await runInDurableObject(stub, (_instance: ProductStock, state) => {
    state.storage.sql.exec(
      "UPDATE reservations SET expires_at = ? WHERE id = ?",
      Date.now() - 1,
      reservationId,
    );
  });
}

/** Moves a prepared transaction's expiry into the past. */
export async function backdatePrepared(stub: StockStub, txId: string): Promise<void> {
  await runInDurableObject(stub, (_instance: ProductStock, state) => {
    state.storage.sql.exec(
      "UPDATE prepared SET expires_at = ? WHERE tx_id = ?",
      Date.now() - 1,
      txId,
    );
  });
}

export async function level(stub: StockStub, locationId: string) {
  const snap = await stub.snapshot();
  return (
    snap.locations.find((l) => l.locationId === locationId) ?? {
      locationId,
      onHand: 0,
      reserved: 0,
      available: 0,
      threshold: null,
      low: false,
    }
  );
}
