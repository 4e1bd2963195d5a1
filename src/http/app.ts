import type { Hook } from "@hono/zod-openapi";
import { OpenAPIHono } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { type FieldError, ValidationFailed } from "../services/errors.ts";
import type { AppEnv } from "./context.ts";
import { defaultBodyLimit } from "./middleware/body-limit.ts";
import { init } from "./middleware/init.ts";
import { requestId } from "./middleware/request-id.ts";
import { securityHeaders } from "./middleware/security-headers.ts";
import { onError, problem } from "./problem.ts";

const TARGET_TO_IN: Record<string, FieldError["in"]> = {
  json: "body",
  form: "body",
  query: "query",
  param: "path",
  header: "header",
  cookie: "header",
};

/** Turns a failed zod parse of any request part into a 422 naming every failing field. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (result.success) return;
  const where = TARGET_TO_IN[result.target] ?? "body";
  const errors: FieldError[] = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join("."),
    in: where,
    message: issue.message,
  }));
  throw new ValidationFailed(errors);
};

/** A router with Souk's validation hook; every resource sub-app is made with this. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

/**
 * Hono hands only `Error`s to the error handler and lets anything else escape as the runtime's
 * bare 500. The Neon driver's WebSocket transport rejects with the socket's ErrorEvent itself, so
 * a thrown non-Error is wrapped (kept as `cause`) for the handler to classify.
 */
const onlyErrors = createMiddleware<AppEnv>(async (_c, next) => {
  try {
    await next();
  } catch (thrown) {
    if (thrown instanceof Error) throw thrown;
    const type = typeof thrown === "object" && thrown ? (thrown as { type?: unknown }).type : "";
    throw new Error(`non-Error thrown${type ? ` (an event of type ${String(type)})` : ""}`, {
      cause: thrown,
    });
  }
});

/**
 * The app shell: request id, security headers, body limit, error mapping, per-request
 * services. Routes are added by index.
 */
export function createApp(): OpenAPIHono<AppEnv> {
  const app = createRouter();
  app.use("*", requestId);
  app.use("*", securityHeaders);
  app.use("*", onlyErrors);
  app.use("*", defaultBodyLimit);
  app.use("*", init);
  app.onError(onError);
  app.notFound((c) => problem(c, "NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`));
  return app;
}
