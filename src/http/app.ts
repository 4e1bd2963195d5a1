import type { Hook } from "@hono/zod-openapi";
import { OpenAPIHono } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { METHOD_NAME_ALL } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";
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
 * The methods the app's own routes take at a path, so a known path called with another method is
 * a 405 naming them (RFC 9110 §15.5.6), not a 404. Read from `app.routes` on first use, when every
 * resource is mounted; middleware (method ALL) names no method.
 */
function methodsAt(app: OpenAPIHono<AppEnv>): (path: string) => string[] {
  let router: TrieRouter<string> | undefined;
  return (path) => {
    if (!router) {
      router = new TrieRouter<string>();
      for (const r of app.routes) {
        if (r.method !== METHOD_NAME_ALL) router.add(METHOD_NAME_ALL, r.path, r.method);
      }
    }
    const methods = new Set(router.match(METHOD_NAME_ALL, path)[0].map(([method]) => method));
    // Hono answers HEAD with the GET route.
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}

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
  const allowed = methodsAt(app);
  app.notFound((c) => {
    const methods = allowed(c.req.path);
    if (methods.length === 0) {
      return problem(c, "NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`);
    }
    const res = problem(
      c,
      "METHOD_NOT_ALLOWED",
      `${c.req.path} does not take ${c.req.method}; it takes ${methods.join(", ")}.`,
    );
    res.headers.set("allow", methods.join(", "));
    return res;
  });
  return app;
}
