import type Stripe from "stripe";
import type { AuctionRoom } from "../../durable-objects/auction-room.ts";
import type { DeliverySlots } from "../../durable-objects/delivery-slots.ts";
import type { ProductStock } from "../../durable-objects/product-stock.ts";
import type { Actor } from "../db/audit.ts";
import type { Database } from "../db/client.ts";
import type { HttpDatabase } from "../db/http.ts";
import type { Config } from "../env.ts";
import type { Logger } from "../lib/logger.ts";
import type { Redis } from "../lib/redis.ts";
import type { CatalogCache } from "./catalog/cache-keys.ts";
import type { ImportQueue } from "./import-message.ts";
import type { NotificationQueue } from "./notifications/notify.ts";

/** The ProductStock namespace (`env.PRODUCT_STOCK`): one object per product. */
export type StockNamespace = DurableObjectNamespace<ProductStock>;
/** The AuctionRoom namespace (`env.AUCTION_ROOM`): one object per auction. */
export type RoomNamespace = DurableObjectNamespace<AuctionRoom>;
/** The DeliverySlots namespace (`env.DELIVERY_SLOTS`): one object per shop. */
export type SlotsNamespace = DurableObjectNamespace<DeliverySlots>;

/**
 * What every service function receives, built once per request (`src/http/service-context.ts`)
 * and once per job (`src/jobs/context.ts`): no HTTP, no Hono. The clients that cost something
 * to open (the Postgres pool, Stripe) are opened on first use, so a service pays only for what
 * it touches. Tests build one with `tests/helpers/context.ts`.
 */
export interface ServiceContext {
  /** Postgres over the WebSocket pool: interactive transactions. Opened on first use. */
  readonly db: Database;
  /** Postgres over HTTP: one-shot reads and batched (non-interactive) transactions. */
  readonly http: HttpDatabase;
  config: Config;
  /** Who acts, and under which request or job: written into every audit row. */
  actor: Actor;
  logger: Logger;
  /** Null when no Redis is configured (rate limits and caches are off). */
  redis: Redis | null;
  /** The real Stripe SDK (the emulator locally), built on first use. */
  readonly stripe: Stripe;
  /** The stock objects, one per product. */
  stock: StockNamespace;
  /** The auction rooms, one per auction. */
  rooms: RoomNamespace;
  /** The delivery-slot objects, one per shop. */
  slots: SlotsNamespace;
  /** The notifications queue (in-app and email). */
  queue: NotificationQueue;
  /** The imports queue: CSV uploads and receipts worked off the request. */
  imports: ImportQueue;
  /** Uploaded files (R2): CSV imports and receipt photos. */
  files: R2Bucket;
  /** The catalog cache: reads go through it, committed writes invalidate it. */
  cache: CatalogCache;
  /** Runs work after the answer (the request's or the job's waitUntil). */
  defer(work: Promise<unknown>): void;
}
/**
 * The same context with some members replaced (a child logger, another actor). Built on the
 * original as its prototype, so lazy members stay lazy: spreading would open the pool and build
 * Stripe for a job that needs neither.
 */
export function derive<C extends ServiceContext>(ctx: C, overrides: Partial<ServiceContext>): C {
  return Object.create(ctx, Object.getOwnPropertyDescriptors(overrides)) as C;
}

/** Postgres unique_violation, through the Neon driver or drizzle's wrapper. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const rec = e as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (rec.code === "23505") return constraint ? rec.constraint === constraint : true;
    e = rec.cause;
  }
  return false;
}
