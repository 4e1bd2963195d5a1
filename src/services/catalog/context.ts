import type { CacheDeps } from "../../lib/cache.ts";
import type { ServiceContext } from "../context.ts";

/** A service context plus the cache: reads go through it, committed writes invalidate it. */
export interface CatalogContext extends ServiceContext {
  cache: CacheDeps;
}
