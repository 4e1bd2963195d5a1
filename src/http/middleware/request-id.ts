import { createMiddleware } from "hono/factory";
import { uuidv7 } from "../../lib/ids.ts";
import type { AppEnv } from "../context.ts";

const SAFE_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** Takes a sane incoming `x-request-id` (a proxy's) or makes one; echoes it on the response. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const id = incoming && SAFE_ID.test(incoming) ? incoming : uuidv7();
  c.set("requestId", id);
  await next();
  c.res.headers.set("x-request-id", id);
});
