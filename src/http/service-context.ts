import type { Context } from "hono";
import type { ServiceContext } from "../services/context.ts";
import type { AppEnv } from "./context.ts";

/** The service context for this request: its db, config, logger and the acting user. */
export function serviceContext(c: Context<AppEnv>): ServiceContext {
  const s = c.get("services");
  const user = c.get("user");
  return {
    get db() {
      return s.db;
    },
    config: s.config,
    logger: s.logger,
    actor: { type: "user", id: user?.id ?? null, requestId: s.requestId },
  };
}
