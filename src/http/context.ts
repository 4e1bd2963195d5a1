import type { Database } from "../db/client.ts";
import type { HttpDatabase } from "../db/http.ts";
import type { Config, Env } from "../env.ts";
import type { Logger } from "../lib/logger.ts";
import type { Redis } from "../lib/redis.ts";

export interface AuthUser {
  id: string;
  role: "buyer" | "seller" | "admin";
}

/** Per-request services, built once by the init middleware and read from the context. */
export interface RequestServices {
  config: Config;
  logger: Logger;
  requestId: string;
  /** Opened on first use and closed after the response (waitUntil). */
  readonly db: Database;
  /** Neon over HTTP (one request per query or batch): built on first use, nothing to close. */
  readonly http: HttpDatabase;
  /** Null when no Redis is configured. */
  redis: Redis | null;
  /** The client's address as Cloudflare reports it; `unknown` locally without the header. */
  clientIp: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    services: RequestServices;
    user: AuthUser;
    /** Set by `requireIdempotencyKey`: the key and the hash of the body it was sent with. */
    idempotencyKey: { key: string; requestHash: string };
  };
}
