import type { Context } from "hono";
import { createStripe } from "../lib/stripe.ts";
import { catalogCache } from "../services/catalog/cache-keys.ts";
import type { ServiceContext } from "../services/context.ts";
import type { AppEnv } from "./context.ts";

const built = new WeakMap<Context<AppEnv>, ServiceContext>();

/**
 * The services' context for this request, built on the first call and kept for the rest of it:
 * the request's clients (the init middleware opens them lazily), its bindings, and the acting
 * user (the auth middleware runs before any handler asks).
 */
export function serviceContext(c: Context<AppEnv>): ServiceContext {
  const existing = built.get(c);
  if (existing) return existing;
  const s = c.get("services");
  const user = c.get("user");
  const ctx: ServiceContext = {
    get db() {
      return s.db;
    },
    get http() {
      return s.http;
    },
    get stripe() {
      return createStripe(s.config);
    },
    config: s.config,
    logger: s.logger,
    redis: s.redis,
    actor: { type: "user", id: user?.id ?? null, requestId: s.requestId },
    stock: c.env.PRODUCT_STOCK,
    rooms: c.env.AUCTION_ROOM,
    slots: c.env.DELIVERY_SLOTS,
    queue: c.env.NOTIFICATIONS,
    imports: c.env.IMPORTS,
    files: c.env.UPLOADS,
    cache: catalogCache(s.redis, s.config.DATABASE_URL, s.logger),
    defer: (work) => c.executionCtx.waitUntil(work),
  };
  built.set(c, ctx);
  return ctx;
}
