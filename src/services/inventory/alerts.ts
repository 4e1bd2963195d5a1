/**
 * Low-stock and out-of-stock alerts. The ProductStock object decides when a location crosses
 * its threshold or runs out (the movement's `alert`: `raised` when available falls to the
 * threshold or to 0, threshold or not; `cleared` when it is back above both); this module turns
 * those crossings into `stock_alerts` rows and notifications. An alert raised with nothing
 * available is of kind `out_of_stock`, any other `low_stock` (`alertKind`).
 *
 * The source is the Postgres mirror (`stock_movements.alert`), read per product in sequence
 * order from a cursor, not the movement a request happens to hold: crossings also come from
 * buyers' reservations and expiries that never pass through this service, and applying a
 * `cleared` before the `raised` it closes would leave a stale open alert. The mirror is a
 * gapless prefix of each object's movements (the outbox flushes in order), so reading it from a
 * cursor sees every crossing exactly once and in order.
 *
 * Three things drive the sync: a write through the inventory API whose movement crossed
 * (`afterMovements`: flush the object, then sync that product, so the alert and notification
 * are there when the response is); `GET /v1/seller/stock/alerts` (syncs the shop first); and
 * `syncStockAlerts` with no shop, for a cron sweep that catches crossings made by checkout.
 *
 * An owner or manager may acknowledge an open alert: it leaves the default list but stays open
 * (a later crossing still finds it) until the stock recovers and a `cleared` closes it.
 */
import { and, asc, desc, eq, gt, isNotNull, isNull, lt, sql } from "drizzle-orm";
import { z } from "zod";
import type { Movement, ProductStock } from "../../../durable-objects/product-stock.ts";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import { withAudit } from "../../db/audit.ts";
import type { Database } from "../../db/client.ts";
import { products } from "../../db/schema/catalog.ts";
import { type StockAlert, stockAlertCursors, stockAlerts } from "../../db/schema/inventory.ts";
import { shopLocations } from "../../db/schema/shops.ts";
import { stockMovements } from "../../db/schema/stock.ts";
import { errorMessage } from "../../lib/errors.ts";
import { uuidv7 } from "../../lib/ids.ts";
import type { Logger } from "../../lib/logger.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, DomainError, NotFound, ValidationFailed } from "../errors.ts";
import { type NotificationQueue, notifyAfterCommit } from "../notifications/notify.ts";
import { requireShopPermission } from "../shops/access.ts";
import { shopManagers } from "./access.ts";
import { inParallel } from "./parallel.ts";

/** Crossings applied per product per sync; a backlog larger than this finishes on the next. */
const SYNC_BATCH = 500;
/** Products synced per sweep. */
const SWEEP_PRODUCTS = 50;

/** Alerts are raised and cleared by Souk itself, from stock movements that carry their own audit. */
const ALERTS_ACTOR = { type: "system", id: null, requestId: "stock-alerts" } as const;

export interface AlertSyncDeps {
  db: Database;
  queue: NotificationQueue;
  logger: Logger;
}

export type AlertKind = "low_stock" | "out_of_stock";

/**
 * What an alert is about, from what was available when it was raised: nothing is out of stock.
 * A location already low that then runs out keeps its one open alert (`low_stock`).
 */
export function alertKind(availableAtRaise: number): AlertKind {
  return availableAtRaise === 0 ? "out_of_stock" : "low_stock";
}

interface RaisedAlert {
  alertId: string;
  shopId: string;
  productId: string;
  locationId: string;
  movementId: string;
  threshold: number | null;
  available: number;
}

/**
 * Applies one product's unprocessed crossings from the mirror, in sequence order, under a lock
 * on the product's cursor row (concurrent syncs wait, then find nothing left). Each `raised`
 * opens an alert and, after the commit, notifies the shop's owners and managers once per
 * movement (the dedupe key); each `cleared` closes the open alert. Returns how many it applied.
 */
export async function syncProductAlerts(
  deps: AlertSyncDeps,
  productId: string,
): Promise<{ raised: number; cleared: number }> {
  let cleared = 0;
  const raised = await withAudit(deps.db, ALERTS_ACTOR, async (tx) => {
    await tx.insert(stockAlertCursors).values({ productId }).onConflictDoNothing();
    const [cursor] = await tx
      .select({ lastSequence: stockAlertCursors.lastSequence })
      .from(stockAlertCursors)
      .where(eq(stockAlertCursors.productId, productId))
      .for("update");
    const after = cursor?.lastSequence ?? 0;
    const rows = await tx
      .select()
      .from(stockMovements)
      .where(
        and(
          eq(stockMovements.productId, productId),
          isNotNull(stockMovements.alert),
          gt(stockMovements.sequence, after),
        ),
      )
      .orderBy(asc(stockMovements.sequence))
      .limit(SYNC_BATCH);
    const last = rows.at(-1);
    if (!last) return [];
    const [product] = await tx
      .select({ shopId: products.shopId })
      .from(products)
      .where(eq(products.id, productId));
    const opened: RaisedAlert[] = [];
    for (const m of rows) {
      const shopId = m.shopId ?? product?.shopId;
      if (!shopId) continue;
      if (m.alert === "raised") {
        const inserted = await tx
          .insert(stockAlerts)
          .values({
            id: uuidv7(),
            shopId,
            productId,
            locationId: m.locationId,
            threshold: m.lowStockThreshold,
            availableAtRaise: m.onHandAfter - m.reservedAfter,
            raisedMovementId: m.id,
            raisedSequence: m.sequence,
            raisedAt: m.createdAt,
          })
          // An open alert already there means this crossing was applied: nothing to do.
          .onConflictDoNothing()
          .returning({ id: stockAlerts.id });
        const row = inserted[0];
        if (row) {
          opened.push({
            alertId: row.id,
            shopId,
            productId,
            locationId: m.locationId,
            movementId: m.id,
            threshold: m.lowStockThreshold,
            available: m.onHandAfter - m.reservedAfter,
          });
        }
      } else {
        const closed = await tx
          .update(stockAlerts)
          .set({ clearedMovementId: m.id, clearedSequence: m.sequence, clearedAt: m.createdAt })
          .where(
            and(
              eq(stockAlerts.productId, productId),
              eq(stockAlerts.locationId, m.locationId),
              isNull(stockAlerts.clearedAt),
            ),
          )
          .returning({ id: stockAlerts.id });
        cleared += closed.length;
      }
    }
    await tx
      .update(stockAlertCursors)
      .set({ lastSequence: last.sequence, updatedAt: new Date() })
      .where(eq(stockAlertCursors.productId, productId));
    return opened;
  });
  for (const alert of raised) await notifyLowStock(deps, alert);
  return { raised: raised.length, cleared };
}

async function notifyLowStock(deps: AlertSyncDeps, alert: RaisedAlert): Promise<void> {
  const [where] = await deps.db
    .select({ title: products.title, sku: products.sku, location: shopLocations.name })
    .from(products)
    .leftJoin(shopLocations, eq(shopLocations.id, alert.locationId))
    .where(eq(products.id, alert.productId));
  const title = where?.title ?? "A product";
  const place = where?.location ?? "a location";
  const named = `${title} (${where?.sku ?? alert.productId})`;
  const out = alertKind(alert.available) === "out_of_stock";
  const kind = out ? "stock.out_of_stock" : "stock.low";
  for (const userId of await shopManagers(deps.db, alert.shopId)) {
    await notifyAfterCommit(deps.queue, deps.logger, {
      userId,
      kind,
      title: `${out ? "Out of stock" : "Low stock"}: ${title}`.slice(0, 200),
      body: out
        ? `${named} has nothing available at ${place}.`
        : `${named} has ${alert.available} available at ${place}, at or below its ` +
          `threshold of ${alert.threshold ?? 0}.`,
      data: {
        alertId: alert.alertId,
        shopId: alert.shopId,
        productId: alert.productId,
        locationId: alert.locationId,
        movementId: alert.movementId,
        available: alert.available,
        threshold: alert.threshold,
      },
      dedupeKey: `${kind}:${alert.movementId}:${userId}`,
    });
  }
}

/**
 * Syncs the products (of one shop, or of every shop for a cron sweep) whose mirror holds
 * crossings past their cursor. Returns how many products it synced.
 */
export async function syncStockAlerts(
  deps: AlertSyncDeps,
  opts: { shopId?: string } = {},
): Promise<number> {
  const pending = await deps.db
    .selectDistinct({ productId: stockMovements.productId })
    .from(stockMovements)
    .leftJoin(stockAlertCursors, eq(stockAlertCursors.productId, stockMovements.productId))
    .where(
      and(
        opts.shopId ? eq(stockMovements.shopId, opts.shopId) : undefined,
        isNotNull(stockMovements.alert),
        sql`${stockMovements.sequence} > coalesce(${stockAlertCursors.lastSequence}, 0)`,
      ),
    )
    .limit(SWEEP_PRODUCTS);
  for (const { productId } of pending) await syncProductAlerts(deps, productId);
  return pending.length;
}

/**
 * Called with the movements a request just made. When one crossed a threshold, flushes the
 * object's outbox (so the mirror holds the crossing) and syncs the product's alerts. Never
 * throws: the stock change has happened; a failure here is logged and the next sync (the alert
 * list, the sweep) picks the crossing up from the mirror.
 */
export async function afterMovements(
  ctx: Pick<ServiceContext, "db" | "queue" | "logger">,
  stub: DurableObjectStub<ProductStock>,
  productId: string,
  movements: Movement[],
): Promise<void> {
  if (!movements.some((m) => m.alert !== null)) return;
  try {
    const flushed = await stub.flushOutbox();
    if (flushed.error) {
      ctx.logger.warn("stock mirror flush failed; alerts follow at the next sync", {
        productId,
        error: flushed.error,
      });
      return;
    }
    await syncProductAlerts(ctx, productId);
  } catch (err) {
    ctx.logger.error("low-stock alert sync failed", {
      productId,
      error: errorMessage(err),
    });
  }
}

/**
 * `afterMovements` for the products of a bulk change, a few at a time: only the products whose
 * movements crossed a threshold cost a flush and a sync.
 */
export async function afterManyMovements(
  ctx: Pick<ServiceContext, "db" | "queue" | "logger" | "stock">,
  changed: Array<{ productId: string; movements: Movement[] }>,
): Promise<void> {
  const crossed = changed.filter((c) => c.movements.some((m) => m.alert !== null));
  await inParallel(
    crossed,
    (c) => afterMovements(ctx, stockOf(ctx.stock, c.productId), c.productId, c.movements),
    4,
  );
}

export const alertListQuery = z.object({
  shopId: z.uuid(),
  productId: z.uuid().optional(),
  state: z.enum(["open", "all"]).default("open"),
  /** `false` (default): not acknowledged; `true`: only acknowledged; `all`: both. */
  acknowledged: z.enum(["false", "true", "all"]).default("false"),
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
});

export interface AlertView {
  id: string;
  productId: string;
  sku: string;
  title: string;
  locationId: string;
  locationCode: string | null;
  locationName: string | null;
  kind: AlertKind;
  threshold: number | null;
  availableAtRaise: number;
  raisedAt: string;
  raisedMovementId: string;
  clearedAt: string | null;
  clearedMovementId: string | null;
  acknowledgedAt: string | null;
}

const alertColumns = {
  alert: stockAlerts,
  sku: products.sku,
  title: products.title,
  locationCode: shopLocations.code,
  locationName: shopLocations.name,
};

function alertView({
  alert: a,
  ...r
}: {
  alert: StockAlert;
  sku: string;
  title: string;
  locationCode: string | null;
  locationName: string | null;
}): AlertView {
  return {
    id: a.id,
    productId: a.productId,
    sku: r.sku,
    title: r.title,
    locationId: a.locationId,
    locationCode: r.locationCode,
    locationName: r.locationName,
    kind: alertKind(a.availableAtRaise),
    threshold: a.threshold,
    availableAtRaise: a.availableAtRaise,
    raisedAt: a.raisedAt.toISOString(),
    raisedMovementId: a.raisedMovementId,
    clearedAt: a.clearedAt?.toISOString() ?? null,
    clearedMovementId: a.clearedMovementId,
    acknowledgedAt: a.acknowledgedAt?.toISOString() ?? null,
  };
}

/**
 * A shop's low-stock alerts, newest first: open, unacknowledged ones by default. Any member may
 * read them. The
 * shop's pending crossings are synced from the mirror first, so the list is as current as the
 * mirror is.
 */
export async function listStockAlerts(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof alertListQuery>,
): Promise<Page<AlertView>> {
  const q = alertListQuery.parse(raw);
  const after = q.cursor ? decodeCursor(q.cursor, z.object({ id: z.uuid() })) : null;
  if (q.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  await requireShopPermission(ctx.db, q.shopId, userId, "stock.read");
  try {
    await syncStockAlerts(ctx, { shopId: q.shopId });
  } catch (err) {
    ctx.logger.warn("alert sync before listing failed", {
      shopId: q.shopId,
      error: errorMessage(err),
    });
  }
  const rows = await ctx.db
    .select(alertColumns)
    .from(stockAlerts)
    .innerJoin(products, eq(products.id, stockAlerts.productId))
    .leftJoin(shopLocations, eq(shopLocations.id, stockAlerts.locationId))
    .where(
      and(
        eq(stockAlerts.shopId, q.shopId),
        q.state === "open" ? isNull(stockAlerts.clearedAt) : undefined,
        q.acknowledged === "false" ? isNull(stockAlerts.acknowledgedAt) : undefined,
        q.acknowledged === "true" ? isNotNull(stockAlerts.acknowledgedAt) : undefined,
        q.productId ? eq(stockAlerts.productId, q.productId) : undefined,
        after ? lt(stockAlerts.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(stockAlerts.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ id: r.alert.id }));
  return { items: page.items.map(alertView), nextCursor: page.nextCursor };
}

/**
 * Marks an alert as seen by an owner or manager of its shop, with one audit row. Staff get 403,
 * anyone outside the shop 404; an alert already acknowledged is a 409 (the row is locked, so
 * two acknowledgements racing give one success and one conflict).
 */
export async function acknowledgeStockAlert(
  ctx: ServiceContext,
  userId: string,
  alertId: string,
): Promise<AlertView> {
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [before] = await tx
      .select()
      .from(stockAlerts)
      .where(eq(stockAlerts.id, alertId))
      .for("update");
    if (!before) throw new NotFound("stock alert", alertId);
    try {
      await requireShopPermission(tx, before.shopId, userId, "stock.write");
    } catch (err) {
      if (err instanceof DomainError && err.code === "NOT_FOUND") {
        throw new NotFound("stock alert", alertId);
      }
      throw err;
    }
    if (before.acknowledgedAt) {
      throw new Conflict("This stock alert was already acknowledged.", {
        acknowledgedAt: before.acknowledgedAt.toISOString(),
      });
    }
    const acknowledgedAt = new Date();
    await tx
      .update(stockAlerts)
      .set({ acknowledgedAt, acknowledgedBy: userId })
      .where(eq(stockAlerts.id, alertId));
    await audit.record({
      action: "stock_alert.acknowledged",
      entityType: "stock_alert",
      entityId: alertId,
      oldValue: { acknowledgedAt: null },
      newValue: { acknowledgedAt: acknowledgedAt.toISOString(), acknowledgedBy: userId },
    });
    const [row] = await tx
      .select(alertColumns)
      .from(stockAlerts)
      .innerJoin(products, eq(products.id, stockAlerts.productId))
      .leftJoin(shopLocations, eq(shopLocations.id, stockAlerts.locationId))
      .where(eq(stockAlerts.id, alertId));
    if (!row) throw new NotFound("stock alert", alertId);
    return alertView(row);
  });
}
