/**
 * HTTP face of the test helpers (`/_emulator/…`, JSON or form bodies, JSON answers in Stripe's
 * error shape on failure) and the pages a browser visits: account links
 * (`/connect/onboard/{acct}`) and the 3-D Secure page a `next_action` points at.
 */
import { visitAccountLink } from "./api/accounts.ts";
import { completeAction } from "./api/payment-intents.ts";
import { type EmulatorCore, isRecord } from "./core.ts";
import { invalidRequest } from "./errors.ts";
import type { Helpers } from "./helpers.ts";
import { type Route, route } from "./router.ts";

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface HelperRequest {
  core: EmulatorCore;
  helpers: Helpers;
  path: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  headers: Record<string, string | undefined>;
  rawBody: string;
}

type HelperHandler = (req: HelperRequest) => Reply | Promise<Reply>;

export function json(body: unknown, status = 200): Reply {
  return {
    status,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body, null, 2),
  };
}

function redirect(location: string): Reply {
  return { status: 302, headers: { Location: location }, body: "" };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function html(title: string, inner: string, status = 200): Reply {
  return {
    status,
    headers: { "Content-Type": "text/html; charset=utf-8" },
    body: `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:system-ui;max-width:40rem;margin:3rem auto"><h1>${escapeHtml(title)}</h1>${inner}<p><small>Local Stripe emulator</small></p></body></html>`,
  };
}

function str(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string")
    throw invalidRequest(`Invalid ${key}: expected a string`, { param: key });
  return v;
}

function int(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 0) {
    throw invalidRequest(`Invalid ${key}: expected a non-negative integer`, { param: key });
  }
  return n;
}

function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

export const HELPER_ROUTES: Route<HelperHandler>[] = [
  route("GET", "/_emulator", ({ core, helpers }) =>
    json({
      object: "stripe_emulator",
      url: core.baseUrl,
      webhooks_paused: core.dispatcher.isPaused(),
      pending_deliveries: core.dispatcher.pendingCount(),
      webhook_endpoints: [...core.dispatcher.endpoints.values()].map((e) => ({
        id: e.id,
        url: e.url,
        connect: e.connect,
        enabled_events: e.enabledEvents,
        status: e.status,
      })),
      counts: {
        payment_intents: core.state.paymentIntents.all().length,
        charges: core.state.charges.all().length,
        refunds: core.state.refunds.all().length,
        transfers: core.state.transfers.all().length,
        accounts: core.state.accounts.all().length,
        events: core.state.events.all().length,
        delivery_attempts: helpers.deliveries().length,
      },
    }),
  ),
  route("GET", "/_emulator/deliveries", ({ helpers, query }) =>
    json({
      object: "list",
      data: helpers.deliveries({
        ...(query.get("event_id") ? { eventId: query.get("event_id") ?? "" } : {}),
        ...(query.get("endpoint_id") ? { endpointId: query.get("endpoint_id") ?? "" } : {}),
        ...(query.get("type") ? { type: query.get("type") ?? "" } : {}),
      }),
    }),
  ),
  route("POST", "/_emulator/events", ({ helpers, body }) => {
    const type = str(body, "type");
    if (!type) throw invalidRequest("Missing required param: type.", { param: "type" });
    const previous = body.previous_attributes;
    return json(
      helpers.emitEvent({
        type,
        object: body.object ?? {},
        account: str(body, "account") ?? null,
        ...(isRecord(previous) ? { previousAttributes: previous } : {}),
      }),
    );
  }),
  route("POST", "/_emulator/events/:id/resend", ({ helpers, path, body }) => {
    const r = helpers.resendEvent(path.id ?? "", str(body, "endpoint_id"));
    return json({ event: r.event.id, queued_to: r.endpoints });
  }),
  route("POST", "/_emulator/trigger/:type", ({ helpers, path }) =>
    json({ object: "list", data: helpers.trigger(path.type ?? "") }),
  ),
  route("POST", "/_emulator/payment_intents/:id/pay", ({ helpers, path, body }) =>
    json(
      helpers.pay(
        path.id ?? "",
        str(body, "payment_method") ?? "pm_card_visa",
        str(body, "return_url"),
      ),
    ),
  ),
  route("POST", "/_emulator/payment_intents/:id/complete_action", ({ helpers, path }) =>
    json(helpers.completeAction(path.id ?? "")),
  ),
  route("POST", "/_emulator/payment_intents/:id/fail_action", ({ helpers, path }) =>
    json(helpers.failAction(path.id ?? "")),
  ),
  route("GET", "/_emulator/payment_intents/:id/authenticate", ({ core, path, query }) => {
    const id = path.id ?? "";
    const account = core.state.paymentIntents.scopeOf(id);
    const pi = account === undefined ? undefined : core.state.paymentIntents.get(id, account);
    if (!pi || account === undefined) return html("Unknown PaymentIntent", "", 404);
    const result = query.get("result");
    if (result !== "succeed" && result !== "fail") {
      const base = `/_emulator/payment_intents/${encodeURIComponent(id)}/authenticate`;
      return html(
        "3D Secure 2 test payment",
        `<p>${escapeHtml(pi.id)}: ${pi.amount} ${escapeHtml(pi.currency)} (${escapeHtml(pi.status)})</p><p><a href="${base}?result=succeed">Complete authentication</a> · <a href="${base}?result=fail">Fail authentication</a></p>`,
      );
    }
    const returnUrl = pi.next_action?.redirect_to_url?.return_url ?? null;
    const after = completeAction(core, id, account, result);
    if (returnUrl && URL.canParse(returnUrl)) {
      return redirect(
        withQuery(returnUrl, {
          payment_intent: after.id,
          payment_intent_client_secret: after.client_secret,
          redirect_status: after.status === "succeeded" ? "succeeded" : "failed",
        }),
      );
    }
    return html(
      "Authentication done",
      `<p>${escapeHtml(after.id)} is now ${escapeHtml(after.status)}.</p>`,
    );
  }),
  route("GET", "/_emulator/return", () =>
    html("Returned from Stripe", "<p>You may close this page.</p>"),
  ),
  route("POST", "/_emulator/charges/:id/dispute", ({ helpers, path, body }) => {
    const reason = str(body, "reason");
    const amount = int(body, "amount");
    return json(
      helpers.openDispute(path.id ?? "", {
        ...(reason ? { reason } : {}),
        ...(amount === undefined ? {} : { amount }),
      }),
    );
  }),
  route("POST", "/_emulator/disputes/:id/close", ({ helpers, path, body }) => {
    const status = str(body, "status");
    if (status !== "won" && status !== "lost") {
      throw invalidRequest("Invalid status: must be won or lost", { param: "status" });
    }
    return json(helpers.closeDispute(path.id ?? "", status));
  }),
  route("POST", "/_emulator/accounts/:id/onboard", ({ helpers, path }) =>
    json(helpers.completeOnboarding(path.id ?? "")),
  ),
  route("POST", "/_emulator/accounts/:id/disable", ({ helpers, path, body }) =>
    json(helpers.disableAccount(path.id ?? "", str(body, "reason"))),
  ),
  route("GET", "/_emulator/webhook_endpoints", ({ core }) =>
    json({
      object: "list",
      data: [...core.dispatcher.endpoints.values()].map((e) => ({
        id: e.id,
        url: e.url,
        connect: e.connect,
        enabled_events: e.enabledEvents,
        status: e.status,
      })),
    }),
  ),
  route("POST", "/_emulator/webhook_endpoints", ({ core, body }) => {
    const url = str(body, "url");
    if (!url || !URL.canParse(url)) throw invalidRequest("Invalid url", { param: "url" });
    const connect = body.connect === true || body.connect === "true";
    const events = body.enabled_events;
    const secret = str(body, "secret");
    const endpoint = core.dispatcher.add({
      url,
      connect,
      ...(secret ? { secret } : {}),
      ...(Array.isArray(events) ? { enabledEvents: events.map(String) } : {}),
    });
    return json({ id: endpoint.id, url: endpoint.url, connect, secret: endpoint.secret });
  }),
  route("DELETE", "/_emulator/webhook_endpoints/:id", ({ core, path }) =>
    json({ id: path.id, deleted: core.dispatcher.remove(path.id ?? "") }),
  ),
  route("POST", "/_emulator/webhooks/pause", ({ core }) => {
    core.dispatcher.pause();
    return json({ paused: true });
  }),
  route("POST", "/_emulator/webhooks/resume", ({ core }) => {
    core.dispatcher.resume();
    return json({ paused: false });
  }),
  route("POST", "/_emulator/webhooks/wait", async ({ core, body }) => {
    const idle = await core.dispatcher.idle(Math.min(int(body, "timeout_ms") ?? 5_000, 60_000));
    return json({ idle, pending: core.dispatcher.pendingCount() });
  }),
  route("POST", "/_emulator/reset", ({ helpers }) => {
    helpers.reset();
    return json({ reset: true });
  }),
  route("POST", "/_emulator/capture/:name", ({ helpers, path, headers, rawBody }) => {
    const status = helpers.sinks.receive(path.name ?? "", headers, rawBody);
    return json(status < 300 ? { received: true } : { error: "configured to fail" }, status);
  }),
  route("GET", "/_emulator/capture/:name", ({ helpers, path, query }) =>
    json({
      object: "list",
      data: helpers.sinks.list(path.name ?? "", {
        ...(query.get("event_id") ? { eventId: query.get("event_id") ?? "" } : {}),
        ...(query.get("type") ? { type: query.get("type") ?? "" } : {}),
        ...(query.get("object_id") ? { objectId: query.get("object_id") ?? "" } : {}),
      }),
    }),
  ),
  route("POST", "/_emulator/capture/:name/config", ({ helpers, path, body }) => {
    const failFirstAttempts = int(body, "fail_first_attempts");
    const failStatus = int(body, "fail_status");
    helpers.sinks.configure(path.name ?? "", {
      ...(failFirstAttempts === undefined ? {} : { failFirstAttempts }),
      ...(failStatus === undefined ? {} : { failStatus }),
    });
    return json({ configured: true });
  }),
  route("DELETE", "/_emulator/capture/:name", ({ helpers, path }) => {
    helpers.sinks.clear(path.name ?? "");
    return json({ cleared: true });
  }),
  route("GET", "/connect/onboard/:account", ({ core, path, query }) => {
    const visit = visitAccountLink(
      core,
      path.account ?? "",
      query.get("link"),
      query.get("action"),
    );
    if (visit.redirect) return redirect(visit.redirect);
    if (visit.kind === "completed") {
      return html(
        "Onboarding complete",
        `<p>${escapeHtml(visit.account.id)}: details submitted, charges and payouts enabled.</p>`,
      );
    }
    return html(
      "Link no longer valid",
      `<p>${escapeHtml(visit.reason)}: ask the platform for a new link.</p>`,
      410,
    );
  }),
];
