import { env } from "cloudflare:workers";
import type { Database } from "../../src/db/client.ts";
import { createHttpDb, type HttpDatabase } from "../../src/db/http.ts";
import { loadConfig } from "../../src/env.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { createStripe } from "../../src/lib/stripe.ts";
import { catalogCache } from "../../src/services/catalog/cache-keys.ts";
import type { ServiceContext } from "../../src/services/context.ts";

/**
 * A service context for a test that calls a service directly: the test run's bindings, a system
 * actor, no Redis, deferred work left to run. Give `db` (usually from `withDb`) when the service
 * opens a transaction, and override any other member the test is about (getters stay getters).
 */
export function testContext(overrides: Partial<ServiceContext> = {}): ServiceContext {
  const config = overrides.config ?? loadConfig(env);
  const logger = overrides.logger ?? createLogger("error");
  const redis = overrides.redis ?? null;
  let http: HttpDatabase | null = null;
  const base: ServiceContext = {
    get db(): Database {
      throw new Error("this test gave the service context no database (testContext({ db }))");
    },
    get http() {
      http ??= createHttpDb({
        databaseUrl: config.DATABASE_URL,
        localHttp: config.NEON_LOCAL_HTTP,
      });
      return http;
    },
    get stripe() {
      return createStripe(config);
    },
    config,
    logger,
    redis,
    actor: { type: "system", id: null, requestId: "test" },
    stock: env.PRODUCT_STOCK,
    rooms: env.AUCTION_ROOM,
    slots: env.DELIVERY_SLOTS,
    queue: env.NOTIFICATIONS,
    imports: env.IMPORTS,
    files: env.UPLOADS,
    cache: catalogCache(redis, config.DATABASE_URL, logger),
    defer: (work) => void work.catch(() => {}),
  };
  return Object.defineProperties(
    base,
    Object.getOwnPropertyDescriptors(overrides),
  ) as ServiceContext;
}
