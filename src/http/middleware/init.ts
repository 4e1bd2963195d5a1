import { createMiddleware } from "hono/factory";
import { createDb, type Database, type DbHandle } from "../../db/client.ts";
import { createHttpDb, type HttpDatabase } from "../../db/http.ts";
import { loadConfig } from "../../env.ts";
import { createLogger, logOnce } from "../../lib/logger.ts";
import { createRedis } from "../../lib/redis.ts";
import type { AppEnv, RequestServices } from "../context.ts";

/**
 * Builds the request's services once: validated config, a logger bound to the request id,
 * Redis (or null), and a database pool opened lazily and ended after the response.
 */
export const init = createMiddleware<AppEnv>(async (c, next) => {
  const config = loadConfig(c.env);
  const requestId = c.get("requestId");
  const logger = createLogger(config.LOG_LEVEL, { requestId });
  const redis = createRedis(config);
  if (!redis) logOnce(logger, "no-redis", "Redis is not configured: rate limits and cache are off");
  let handle: DbHandle | null = null;
  let http: HttpDatabase | null = null;
  const services: RequestServices = {
    config,
    logger,
    requestId,
    redis,
    clientIp: c.req.header("cf-connecting-ip") ?? c.req.header("x-forwarded-for") ?? "unknown",
    get db(): Database {
      handle ??= createDb({
        databaseUrl: config.DATABASE_URL,
        localWsProxy: config.NEON_LOCAL_WS_PROXY,
      });
      return handle.db;
    },
    get http(): HttpDatabase {
      http ??= createHttpDb({
        databaseUrl: config.DATABASE_URL,
        localHttp: config.NEON_LOCAL_HTTP,
      });
      return http;
    },
  };
  c.set("services", services);
  try {
    await next();
  } finally {
    if (handle) {
      const closing = (handle as DbHandle).close();
      try {
        c.executionCtx.waitUntil(closing);
      } catch {
        // No execution context (app.request in a unit test): just await it.
        await closing;
      }
    }
  }
});
