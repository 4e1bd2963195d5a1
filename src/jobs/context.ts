import { createDb, type DbHandle } from "../db/client.ts";
import { createHttpDb, type HttpDatabase } from "../db/http.ts";
import { type Config, type Env, loadConfig } from "../env.ts";
import { createLogger, type Logger } from "../lib/logger.ts";
import { createRedis } from "../lib/redis.ts";
import { createStripe } from "../lib/stripe.ts";
import { catalogCache } from "../services/catalog/cache-keys.ts";
import type { ServiceContext } from "../services/context.ts";

/** What a cron or queue job gets: the services' context with a system actor, and its bindings. */
export interface JobContext extends ServiceContext {
  env: Env;
}

/**
 * Opens a job's context; the caller must `close()` when the batch or run is over, which waits
 * for the work the job deferred and then ends the Postgres pool (if it was opened).
 */
export function openJobContext(
  env: Env,
  job: string,
): { ctx: JobContext; close: () => Promise<void> } {
  const config: Config = loadConfig(env);
  const logger: Logger = createLogger(config.LOG_LEVEL, { job });
  const redis = createRedis(config);
  let handle: DbHandle | null = null;
  let http: HttpDatabase | null = null;
  const deferred: Array<Promise<unknown>> = [];
  const ctx: JobContext = {
    env,
    config,
    logger,
    redis,
    actor: { type: "system", id: null, requestId: `job:${job}` },
    get db() {
      handle ??= createDb({
        databaseUrl: config.DATABASE_URL,
        localWsProxy: config.NEON_LOCAL_WS_PROXY,
      });
      return handle.db;
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
    stock: env.PRODUCT_STOCK,
    rooms: env.AUCTION_ROOM,
    slots: env.DELIVERY_SLOTS,
    queue: env.NOTIFICATIONS,
    imports: env.IMPORTS,
    files: env.UPLOADS,
    cache: catalogCache(redis, config.DATABASE_URL, logger),
    defer: (work) => {
      deferred.push(work.catch((err) => logger.warn("deferred job work failed", { err })));
    },
  };
  return {
    ctx,
    close: async () => {
      await Promise.all(deferred);
      await handle?.close();
    },
  };
}
