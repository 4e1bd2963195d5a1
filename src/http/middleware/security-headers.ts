import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../context.ts";

/**
 * Hono's secure headers (nosniff, no referrer, same-origin resource and opener policies, HSTS),
 * with framing refused outright: no page of Souk's is meant to be inside another site's frame.
 */
const standard = secureHeaders({ xFrameOptions: "DENY" });

/** JSON answers load nothing and are framed by no one. */
const API_POLICY = "default-src 'none'; frame-ancestors 'none'";
/**
 * The reference page runs Scalar (its own script and an inline config, styles injected at run
 * time), so its policy only forbids what it never needs: framing, a foreign base, plugins.
 */
const DOCS_POLICY = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/** Tokens, refresh tokens and a user's own data must not sit in a browser's or a proxy's cache. */
function isPrivatePath(path: string): boolean {
  return (
    path.startsWith("/v1/auth/") ||
    path === "/v1/auth" ||
    path === "/v1/me" ||
    path.startsWith("/v1/me/")
  );
}

/** Security headers on every answer, errors and 404s included (registered outside them all). */
export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await standard(c, next);
  c.res.headers.set("content-security-policy", c.req.path === "/docs" ? DOCS_POLICY : API_POLICY);
  if (isPrivatePath(c.req.path)) c.res.headers.set("cache-control", "no-store");
});
