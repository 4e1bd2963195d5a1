import type { ServiceContext } from "../context.ts";
import type { StockNamespace } from "../inventory/context.ts";
import type { CatalogCache } from "./cache-keys.ts";

/** A service context plus the cache: reads go through it, committed writes invalidate it. */
export interface CatalogContext extends ServiceContext {
  cache: CatalogCache;
  /** The stock objects the public detail reads availability from; absent: `unknown`. */
  stock?: StockNamespace | undefined;
}
