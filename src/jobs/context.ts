import { createDb, type DbHandle } from "../db/client.ts";
import { type Config, type Env, loadConfig } from "../env.ts";
import { createLogger, type Logger } from "../lib/logger.ts";
import { createRedis, type Redis } from "../lib/redis.ts";
import type { ServiceContext } from "../services/context.ts";

/** What a cron or queue job gets: like a request's services, with a system actor. */
export interface JobContext extends ServiceContext {
  env: Env;
  redis: Redis | null;
}

/** Opens a job's clients; the caller must `close()` when the batch or run is over. */
export function openJobContext(
  env: Env,
  job: string,
): { ctx: JobContext; close: () => Promise<void> } {
  const config: Config = loadConfig(env);
  const logger: Logger = createLogger(config.LOG_LEVEL, { job });
  let handle: DbHandle | null = null;
  const ctx: JobContext = {
    env,
    config,
    logger,
    redis: createRedis(config),
    actor: { type: "system", id: null, requestId: `job:${job}` },
    get db() {
      handle ??= createDb({
        databaseUrl: config.DATABASE_URL,
        localWsProxy: config.NEON_LOCAL_WS_PROXY,
      });
      return handle.db;
    },
  };
  return { ctx, close: async () => handle?.close() };
}
