import { eq } from "drizzle-orm";
import { type Movement, UNDOABLE_KINDS } from "../../../durable-objects/product-stock/types.ts";
import type { Queryable } from "../../db/client.ts";
import { stockMovementOwners, stockMovements } from "../../db/schema/stock.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";

/**
 * Notes which product's object owns each undoable movement, so an undo right after reaches the
 * object that decides instead of waiting for the outbox to mirror the movement. Inside a
 * transaction (a stock request's approval) a failure rolls it back with the rest.
 */
export async function noteOwners(
  db: Queryable,
  changed: ReadonlyArray<{ productId: string; movements: readonly Movement[] }>,
): Promise<number> {
  const rows = changed.flatMap((c) =>
    c.movements
      .filter((m) => UNDOABLE_KINDS.has(m.kind))
      .map((m) => ({ movementId: m.id, productId: c.productId })),
  );
  if (rows.length > 0) await db.insert(stockMovementOwners).values(rows).onConflictDoNothing();
  return rows.length;
}

/**
 * `noteOwners` after the object has answered, outside any transaction. A failure is logged, not
 * thrown: the change already happened in the object, and the mirror names the owner once the
 * outbox has flushed.
 */
export async function rememberOwners(
  db: Queryable,
  logger: Logger,
  changed: ReadonlyArray<{ productId: string; movements: readonly Movement[] }>,
): Promise<void> {
  try {
    await noteOwners(db, changed);
  } catch (err) {
    logger.warn("could not note the owners of new movements; undo waits for the mirror", {
      error: errorMessage(err),
    });
  }
}

/**
 * The product whose object owns a movement: from the owners noted at write time, else from the
 * mirror (movements made before owners were noted, or whose note failed). One round trip.
 */
export async function ownerOf(db: Queryable, movementId: string): Promise<string | null> {
  const rows = await db
    .select({ productId: stockMovementOwners.productId })
    .from(stockMovementOwners)
    .where(eq(stockMovementOwners.movementId, movementId))
    .unionAll(
      db
        .select({ productId: stockMovements.productId })
        .from(stockMovements)
        .where(eq(stockMovements.id, movementId)),
    )
    .limit(1);
  return rows[0]?.productId ?? null;
}
