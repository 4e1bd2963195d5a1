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
/**
 * The console's pages (src/console/): scripts and styles only from this Worker's own files (no
 * inline script, no eval: Alpine is its CSP build), forms post only here, product images may come
 * from any https origin.
 */
const CONSOLE_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
  "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/**
 * The console's payment page also runs Stripe.js, which Stripe serves only from js.stripe.com: its
 * script, its frames (the card fields, 3-D Secure) and its calls to api.stripe.com. Nothing else
 * of the console may load it.
 */
const PAYMENT_POLICY = CONSOLE_POLICY.replace(
  "script-src 'self'",
  "script-src 'self' https://js.stripe.com",
)
  .replace("connect-src 'self'", "connect-src 'self' https://api.stripe.com")
  .concat("; frame-src https://js.stripe.com https://hooks.stripe.com");

const isConsolePath = (path: string) => path === "/console" || path.startsWith("/console/");
const PAYMENT_PAGE = /^\/console\/checkout\/payments\/[^/]+$/;

export function policyOf(path: string): string {
  if (path === "/docs") return DOCS_POLICY;
  if (PAYMENT_PAGE.test(path)) return PAYMENT_POLICY;
  return isConsolePath(path) ? CONSOLE_POLICY : API_POLICY;
}

/** Tokens, refresh tokens and a user's own data must not sit in a browser's or a proxy's cache. */
function isPrivatePath(path: string): boolean {
  return (
    path.startsWith("/v1/auth/") ||
    path === "/v1/auth" ||
    path === "/v1/me" ||
    path.startsWith("/v1/me/") ||
    isConsolePath(path)
  );
}

/** Security headers on every answer, errors and 404s included (registered outside them all). */
export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await standard(c, next);
  c.res.headers.set("content-security-policy", policyOf(c.req.path));
  // A console form's POST must carry its Origin for the CSRF check (hono/csrf); under
  // `no-referrer` a browser sends `Origin: null` even to the same origin.
  if (isConsolePath(c.req.path)) c.res.headers.set("referrer-policy", "same-origin");
  if (isPrivatePath(c.req.path)) c.res.headers.set("cache-control", "no-store");
});
