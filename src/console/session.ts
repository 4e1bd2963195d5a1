import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { CookieOptions } from "hono/utils/cookie";
import type { AppEnv, AuthUser } from "../http/context.ts";
import { signIn } from "../http/middleware/auth.ts";
import { serviceContext } from "../http/service-context.ts";
import { refreshSession, type Session } from "../services/auth/session.ts";
import { ACCESS_TOKEN_TTL_SECONDS } from "../services/auth/tokens.ts";
import { Forbidden, Unauthenticated } from "../services/errors.ts";

/**
 * The console's session is the API's session: the same access token (15 min) and the same
 * rotating refresh token, kept in two cookies a script cannot read (HttpOnly), sent only over
 * HTTPS (Secure; browsers treat http://localhost as secure), only to /console (so the JSON API,
 * which takes Bearer tokens only, never sees them), and not on cross-site subrequests or form
 * posts (SameSite=Lax). The `__Secure-` prefix keeps a plain-HTTP page from planting one.
 */
const ACCESS = "souk_access";
const REFRESH = "souk_refresh";
const BASE: CookieOptions = {
  path: "/console",
  httpOnly: true,
  secure: true,
  sameSite: "Lax",
  prefix: "secure",
};

/** Sets both cookies; the access cookie leaves a minute before its token expires. */
export function setSessionCookies(c: Context<AppEnv>, session: Session): void {
  setCookie(c, ACCESS, session.accessToken, {
    ...BASE,
    maxAge: Math.max(ACCESS_TOKEN_TTL_SECONDS - 60, 60),
  });
  const refreshMaxAge = Math.floor((Date.parse(session.refreshExpiresAt) - Date.now()) / 1000);
  setCookie(c, REFRESH, session.refreshToken, { ...BASE, maxAge: Math.max(refreshMaxAge, 0) });
}

export function clearSessionCookies(c: Context<AppEnv>): void {
  deleteCookie(c, ACCESS, BASE);
  deleteCookie(c, REFRESH, BASE);
}

/** The refresh token of this browser's session, if it has one. */
export function refreshTokenOf(c: Context<AppEnv>): string | undefined {
  return getCookie(c, REFRESH, "secure");
}

/** Where a relative redirect returns to: this request's own path and query. */
function here(c: Context<AppEnv>): string {
  const url = new URL(c.req.url);
  return `${url.pathname}${url.search}`;
}

/**
 * Signs the request in from its cookies, as the API's auth middleware does from a Bearer token
 * (same verification, same account standing). An expired access token with a live refresh token
 * rotates the session once and answers 307 to the same URL: the browser repeats the request,
 * form body included, with the new cookies, so every service call sees the signed-in actor.
 * Without a session the request goes on anonymous; pages that need one use `requireViewer`.
 */
export const consoleSession = createMiddleware<AppEnv>(async (c, next) => {
  const access = getCookie(c, ACCESS, "secure");
  if (access) {
    try {
      await signIn(c, access);
      return next();
    } catch (err) {
      if (!(err instanceof Unauthenticated)) throw err;
    }
  }
  const refresh = refreshTokenOf(c);
  if (refresh) {
    try {
      setSessionCookies(c, await refreshSession(serviceContext(c), { refreshToken: refresh }));
      return c.redirect(here(c), 307);
    } catch (err) {
      if (!(err instanceof Unauthenticated)) throw err;
      clearSessionCookies(c);
    }
  }
  return next();
});

/** The signed-in user, if any. */
export function viewerOf(c: Context<AppEnv>): AuthUser | undefined {
  return c.get("user");
}

/**
 * Only signed-in users with one of `roles` (admins pass every role check, as in the API). A
 * page read without a session goes to sign in and comes back; anything else is refused.
 */
export function requireViewer(...roles: AuthUser["role"][]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const user = viewerOf(c);
    if (!user) {
      if (c.req.method === "GET") {
        return c.redirect(`/console/sign-in?next=${encodeURIComponent(here(c))}`, 303);
      }
      throw new Unauthenticated("Sign in first.");
    }
    if (roles.length > 0 && user.role !== "admin" && !roles.includes(user.role)) {
      throw new Forbidden(`This page needs the ${roles.join(" or ")} role.`);
    }
    await next();
  });
}

/** Where a viewer starts: the page of what their role does most. */
export function homeOf(user: AuthUser | undefined): string {
  if (user?.role === "admin") return "/console/admin/shops";
  if (user?.role === "seller") return "/console/seller/inventory";
  return "/console/products";
}

const CONSOLE_PATH = /^\/console(?:[/?]|$)/;

/** A `next` that stays inside the console (never another site: no `//host`, no scheme). */
export function safeNext(next: string | undefined): string | null {
  return next !== undefined && CONSOLE_PATH.test(next) && !next.includes("\\") ? next : null;
}
