import type { ProductStock } from "../../../durable-objects/product-stock.ts";
import type { CatalogCache } from "../catalog/cache-keys.ts";
import type { ServiceContext } from "../context.ts";
import type { NotificationQueue } from "../notifications/notify.ts";

/** The ProductStock namespace (`env.PRODUCT_STOCK`): one object per product. */
export type StockNamespace = DurableObjectNamespace<ProductStock>;
export type StockStub = DurableObjectStub<ProductStock>;

/**
 * What inventory services need beyond the database: the stock objects, the notifications
 * queue (low-stock alerts, stock requests) and the catalog cache (public availability).
 */
export interface InventoryContext extends ServiceContext {
  stock: StockNamespace;
  queue: NotificationQueue;
  cache: CatalogCache;
}

/** The one object that owns a product's stock. */
export function stockOf(ns: StockNamespace, productId: string): StockStub {
  return ns.get(ns.idFromName(productId));
}
