import { and, desc, eq, gte, like, lt, lte, or, type SQL, sql } from "drizzle-orm";
import { auctions } from "../../db/schema/auctions.ts";
import { type AuditRow, auditLog } from "../../db/schema/audit-log.ts";
import { products } from "../../db/schema/catalog.ts";
import { stockRequests } from "../../db/schema/inventory.ts";
import { orderItems, orders } from "../../db/schema/orders.ts";
import { stockMovements } from "../../db/schema/stock.ts";
import { type Page, toPage } from "../../lib/pagination.ts";
import { prefixPattern } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { afterId } from "../cursor.ts";
import { Forbidden } from "../errors.ts";
import { requireShopPermission } from "../shops/access.ts";

export interface AuditQuery {
  limit: number;
  cursor?: string | undefined;
  actorId?: string | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
  /** Exact (`order.cancelled`), or a prefix when it ends with `.` or `*` (`order.`, `order.*`). */
  action?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface AuditView {
  id: string;
  at: string;
  actorId: string | null;
  actorType: string;
  action: string;
  entityType: string;
  entityId: string;
  oldValue: unknown;
  newValue: unknown;
  requestId: string | null;
}

function view(r: AuditRow): AuditView {
  return {
    id: r.id,
    at: r.at.toISOString(),
    actorId: r.actorId,
    actorType: r.actorType,
    action: r.action,
    entityType: r.entityType,
    entityId: r.entityId,
    oldValue: r.oldValue ?? null,
    newValue: r.newValue ?? null,
    requestId: r.requestId,
  };
}

/** Escapes LIKE's wildcards so a prefix filter matches literally. */
function actionCondition(action: string): SQL {
  if (action.endsWith("*")) return like(auditLog.action, prefixPattern(action.slice(0, -1)));
  if (action.endsWith(".")) return like(auditLog.action, prefixPattern(action));
  return eq(auditLog.action, action);
}

/**
 * The audit log for admins, newest first. The keyset is the row id: audit ids are uuidv7, so
 * they sort by time, and paging by id never repeats or skips a row while new ones are written.
 */
export async function listAudit(ctx: ServiceContext, q: AuditQuery): Promise<Page<AuditView>> {
  const after = afterId(q.cursor);
  const rows = await ctx.db
    .select()
    .from(auditLog)
    .where(
      and(
        q.actorId ? eq(auditLog.actorId, q.actorId) : undefined,
        q.entityType ? eq(auditLog.entityType, q.entityType) : undefined,
        q.entityId ? eq(auditLog.entityId, q.entityId) : undefined,
        q.action ? actionCondition(q.action) : undefined,
        q.from ? gte(auditLog.at, q.from) : undefined,
        q.to ? lte(auditLog.at, q.to) : undefined,
        after ? lt(auditLog.id, after) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ id: r.id }));
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

// ---- One shop's trail, for its owners and managers -------------------------------------------

/**
 * The entity types whose audit rows belong to a shop. The audit log names no shop: each row
 * names an entity (`entity_type`, `entity_id`), and a row is the shop's when that entity is the
 * shop itself (its creation, review, verification, payouts, and its team: `shop.member.*`,
 * `shop.invitation.*` are recorded on the shop) or a record the shop owns in Postgres: one of
 * its products, a stock movement of one of its products, one of its stock requests, orders,
 * order lines or auctions. Left out on purpose: checkouts (a buyer's payment, spanning shops),
 * conversations and feedback (the buyer's side of them), complaints (who complained about the
 * shop is not the shop's to read), and rows about users.
 */
export const SHOP_AUDIT_ENTITIES = [
  "shop",
  "product",
  "stock_movement",
  "stock_request",
  "order",
  "order_item",
  "auction",
] as const;
export type ShopAuditEntity = (typeof SHOP_AUDIT_ENTITIES)[number];

export interface ShopAuditQuery {
  limit: number;
  cursor?: string | undefined;
  /** Exact (`order.cancelled`), or a prefix when it ends with `.` or `*`. */
  action?: string | undefined;
  entityType?: ShopAuditEntity | undefined;
  /** Only rows written at or after this instant. */
  since?: Date | undefined;
}

/** Who may read a shop's trail: it shows the whole team's actions, so not staff. */
const TRAIL_READERS = new Set(["owner", "manager"]);

/**
 * `entity_id = any(array(subquery))`: the shop's ids of one kind, read once, then looked up in
 * the (entity_type, entity_id) index (a BitmapOr over the kinds) instead of testing every audit
 * row against a subquery, so a page costs the shop's own rows, not the whole log's.
 */
const entityIn = (ids: SQL) => sql`${auditLog.entityId} = any(array(${ids}))`;

function ownedBy(shopId: string, type: ShopAuditEntity): SQL {
  switch (type) {
    case "shop":
      return eq(auditLog.entityId, shopId);
    case "product":
      return entityIn(sql`select ${products.id}::text from ${products}
        where ${products.shopId} = ${shopId}`);
    case "stock_movement":
      // A movement's own shop_id is null until its object was bound to a shop; its product's
      // shop never changes (the object refuses another), so the product decides.
      return entityIn(sql`select ${stockMovements.id}::text from ${stockMovements}
        join ${products} on ${products.id} = ${stockMovements.productId}
        where ${products.shopId} = ${shopId}`);
    case "stock_request":
      return entityIn(sql`select ${stockRequests.id}::text from ${stockRequests}
        where ${stockRequests.shopId} = ${shopId}`);
    case "order":
      return entityIn(sql`select ${orders.id}::text from ${orders}
        where ${orders.shopId} = ${shopId}`);
    case "order_item":
      return entityIn(sql`select ${orderItems.id}::text from ${orderItems}
        join ${orders} on ${orders.id} = ${orderItems.orderId}
        where ${orders.shopId} = ${shopId}`);
    case "auction":
      return entityIn(sql`select ${auctions.id}::text from ${auctions}
        where ${auctions.shopId} = ${shopId}`);
  }
}

/**
 * A shop's audit trail, newest first, for its owners and managers: the rows whose entity the
 * shop is or owns (see SHOP_AUDIT_ENTITIES). Not on the team, or the shop deleted, 404 (as every
 * ownership check); staff, 403. Keyset by audit id, as the admin list.
 */
export async function listShopAudit(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  q: ShopAuditQuery,
): Promise<Page<AuditView>> {
  // Any member passes this permission; the trail's own rule is checked on the role it returns.
  const { role } = await requireShopPermission(ctx.db, shopId, userId, "catalog.read");
  if (!TRAIL_READERS.has(role)) {
    throw new Forbidden(`Your role in this shop (${role}) cannot read its audit trail.`);
  }
  const after = afterId(q.cursor);
  const types = q.entityType ? [q.entityType] : SHOP_AUDIT_ENTITIES;
  const rows = await ctx.db
    .select()
    .from(auditLog)
    .where(
      and(
        or(...types.map((t) => and(eq(auditLog.entityType, t), ownedBy(shopId, t)))),
        q.action ? actionCondition(q.action) : undefined,
        q.since ? gte(auditLog.at, q.since) : undefined,
        after ? lt(auditLog.id, after) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ id: r.id }));
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}
