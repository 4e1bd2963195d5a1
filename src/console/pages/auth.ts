import { Hono } from "hono";
import { html } from "hono/html";
import type { AppEnv } from "../../http/context.ts";
import { serviceContext } from "../../http/service-context.ts";
import { parseOr422 } from "../../lib/input.ts";
import { enforceLimit } from "../../lib/rate-limit.ts";
import { loginInput, loginUser } from "../../services/auth/login.ts";
import { endAllSessions, endSession } from "../../services/auth/session.ts";
import { refusalOf } from "../errors.ts";
import { alert, type FieldMessages, field, page } from "../layout.ts";
import {
  clearSessionCookies,
  homeOf,
  refreshTokenOf,
  requireViewer,
  safeNext,
  setSessionCookies,
  viewerOf,
} from "../session.ts";

function signInForm(opts: {
  email?: string;
  next?: string | null;
  errors?: FieldMessages;
  message?: string;
}) {
  return html`${alert(opts.message)}
<form method="post" action="/console/sign-in" class="card narrow" novalidate>
  ${opts.next ? html`<input type="hidden" name="next" value="${opts.next}">` : ""}
  ${field({ name: "email", label: "Email", type: "email", value: opts.email ?? "", errors: opts.errors ?? {}, required: true, autocomplete: "username" })}
  ${field({ name: "password", label: "Password", type: "password", errors: opts.errors ?? {}, required: true, autocomplete: "current-password" })}
  <button type="submit">Sign in</button>
</form>`;
}

/** Sign in, sign out, sign out everywhere: the API's login and session services. */
export const authPages = new Hono<AppEnv>()
  .get("/sign-in", (c) => {
    const next = safeNext(c.req.query("next"));
    if (viewerOf(c)) return c.redirect(next ?? homeOf(viewerOf(c)), 303);
    return page(c, { title: "Sign in", body: signInForm({ next }) });
  })
  .post("/sign-in", async (c) => {
    const form = await c.req.parseBody();
    const email = typeof form.email === "string" ? form.email : "";
    const next = safeNext(typeof form.next === "string" ? form.next : undefined);
    try {
      const input = parseOr422(loginInput, { email, password: form.password });
      // The API's limits, per address and per email: the form is no way around them.
      const { redis, clientIp } = c.get("services");
      await enforceLimit(redis, "auth.login.ip", clientIp);
      await enforceLimit(redis, "auth.login.email", input.email);
      const { user, session } = await loginUser(serviceContext(c), input);
      setSessionCookies(c, session);
      return c.redirect(next ?? homeOf({ id: user.id, role: user.role }), 303);
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      const r = await refusalOf(err, c);
      return page(c, {
        title: "Sign in",
        status: r.status,
        body: signInForm({
          email,
          next,
          errors: r.fields,
          message: Object.keys(r.fields).length ? "Check the fields below." : r.detail,
        }),
      });
    }
  })
  .post("/sign-out", async (c) => {
    const refreshToken = refreshTokenOf(c);
    if (refreshToken) await endSession(serviceContext(c), { refreshToken });
    clearSessionCookies(c);
    return c.redirect("/console/sign-in", 303);
  })
  .get("/account", requireViewer(), (c) =>
    page(c, {
      title: "Account",
      body: html`<section class="card narrow">
  <p>You are signed in as a <strong>${viewerOf(c)?.role}</strong>.</p>
  <form method="post" action="/console/sign-out"><button type="submit">Sign out</button></form>
  <form method="post" action="/console/sign-out-everywhere">
    <p class="hint">Signs out every browser and app using this account.</p>
    <button type="submit" class="danger">Sign out everywhere</button>
  </form>
</section>`,
    }),
  )
  .post("/sign-out-everywhere", requireViewer(), async (c) => {
    const user = viewerOf(c);
    if (user) await endAllSessions(serviceContext(c), user.id);
    clearSessionCookies(c);
    return c.redirect("/console/sign-in", 303);
  });
