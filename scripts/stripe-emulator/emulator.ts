/**
 * A local Stripe: an HTTP server speaking Stripe's v1 wire format to the real `stripe` SDK
 * (pointed at it with `host`, `port`, `protocol: "http"`), keeping PaymentIntents, charges,
 * refunds, transfers, Connect accounts and events in memory, and delivering signed webhooks.
 * Differences from Stripe are listed in the README's "Local Stripe emulator" section.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage } from "../../src/lib/error-message.ts";
import { API_ROUTES } from "./api/routes.ts";
import { type ApiContext, DEFAULT_API_VERSION, EmulatorCore, type RequestInfo } from "./core.ts";
import { ApiError, invalidRequest, type StripeErrorBody, unrecognizedUrl } from "./errors.ts";
import { FormError, type FormObject, parseForm } from "./form.ts";
import { HELPER_ROUTES, type HelperRequest, json, type Reply } from "./helper-routes.ts";
import { type CapturedRequest, Helpers } from "./helpers.ts";
import { newId } from "./ids.ts";
import type { AccountObject, DisputeObject, EventObject, PaymentIntentObject } from "./objects.ts";
import { expandList } from "./params.ts";
import { matchRoute } from "./router.ts";
import {
  DEFAULT_RETRY,
  type DeliveryAttempt,
  type RetryPolicy,
  WebhookDispatcher,
  type WebhookEndpointConfig,
} from "./webhooks.ts";

export const DEFAULT_PORT = 12111;
export const DEFAULT_SECRET_KEY = "sk_test_souk_local_emulator";
/** Stripe keeps idempotency keys for at least 24 hours. */
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const MAX_IDEMPOTENCY_KEYS = 50_000;
const MAX_BODY_BYTES = 1024 * 1024;

export interface StripeEmulatorOptions {
  /** 0 picks a free port; default 12111. */
  port?: number;
  /** Default 127.0.0.1: the emulator has no auth on its helpers, keep it on loopback. */
  host?: string;
  /** The key reported on the handle; any `sk_test_…` key is accepted. */
  secretKey?: string;
  webhookEndpoints?: WebhookEndpointConfig[];
  retry?: Partial<RetryPolicy>;
  log?: (m: string) => void;
}

export interface StripeEmulator {
  /** `http://127.0.0.1:PORT` */
  url: string;
  host: string;
  port: number;
  secretKey: string;
  addWebhookEndpoint(e: WebhookEndpointConfig): { id: string; secret: string };
  removeWebhookEndpoint(id: string): boolean;
  /** Every delivery attempt so far (newest last), optionally for one event or endpoint. */
  deliveries(filter?: { eventId?: string; endpointId?: string; type?: string }): DeliveryAttempt[];
  events(): EventObject[];
  /** Requests received by the capture sink `/_emulator/capture/{name}`. */
  captured(name: string): CapturedRequest[];
  emitEvent(input: {
    type: string;
    object: unknown;
    account?: string | null;
    previousAttributes?: Record<string, unknown>;
  }): EventObject;
  resendEvent(eventId: string, endpointId?: string): string[];
  trigger(type: string): EventObject[];
  /** Customer-side confirm (Stripe.js): succeeded, requires_action, or throws on a decline. */
  pay(paymentIntentId: string, paymentMethod?: string): PaymentIntentObject;
  completeAction(paymentIntentId: string): PaymentIntentObject;
  failAction(paymentIntentId: string): PaymentIntentObject;
  openDispute(chargeId: string, opts?: { reason?: string; amount?: number }): DisputeObject;
  completeOnboarding(accountId: string): AccountObject;
  disableAccount(accountId: string, reason?: string): AccountObject;
  pauseDelivery(): void;
  resumeDelivery(): void;
  /** Resolves true once no delivery is queued or in flight. */
  waitForDeliveries(timeoutMs?: number): Promise<boolean>;
  reset(): void;
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_BODY_BYTES)
      throw new ApiError(
        413,
        { type: "invalid_request_error", message: "Request body too large." },
        false,
      );
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Parameters keyed in a stable order, so a replay matches whatever order the client used. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function redactKey(key: string): string {
  return key.length > 12
    ? `${key.slice(0, 8)}${"*".repeat(key.length - 12)}${key.slice(-4)}`
    : "****";
}

/** The secret key from `Authorization: Bearer sk_…` or Basic auth with the key as user (curl -u). */
function apiKeyOf(req: IncomingMessage): string | null {
  const auth = headerValue(req, "authorization");
  if (!auth) return null;
  const [scheme, value = ""] = auth.split(" ", 2);
  if (scheme?.toLowerCase() === "bearer") return value.trim() || null;
  if (scheme?.toLowerCase() === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    return decoded.split(":")[0] || null;
  }
  return null;
}

function errorReply(status: number, body: StripeErrorBody, requestId: string): Reply {
  return json(
    { error: { ...body, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}` } },
    status,
  );
}

class Server {
  readonly core: EmulatorCore;
  readonly helpers: Helpers;

  constructor(core: EmulatorCore) {
    this.core = core;
    this.helpers = new Helpers(core);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator.local");
    const method = (req.method ?? "GET").toUpperCase();
    let reply: Reply;
    const extraHeaders: Record<string, string> = {};
    try {
      const body = await readBody(req);
      if (url.pathname.startsWith("/v1/")) {
        reply = this.api(req, method, url, body, extraHeaders);
      } else {
        reply = await this.helper(req, method, url, body);
      }
    } catch (e) {
      reply = this.failure(e, newId("req", 14));
    }
    res.writeHead(reply.status, { ...reply.headers, ...extraHeaders });
    res.end(reply.body);
  }

  private failure(e: unknown, requestId: string): Reply {
    if (e instanceof ApiError) return errorReply(e.status, e.body, requestId);
    if (e instanceof FormError) {
      return errorReply(
        400,
        { type: "invalid_request_error", message: e.message, param: e.param },
        requestId,
      );
    }
    this.core.log(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return errorReply(
      500,
      {
        type: "api_error",
        message: `The Stripe emulator failed: ${errorMessage(e)}`,
      },
      requestId,
    );
  }

  private api(
    req: IncomingMessage,
    method: string,
    url: URL,
    body: string,
    headers: Record<string, string>,
  ): Reply {
    const requestId = newId("req", 14);
    const apiVersion = headerValue(req, "stripe-version") ?? DEFAULT_API_VERSION;
    headers["Request-Id"] = requestId;
    headers["Stripe-Version"] = apiVersion;
    const reply = this.apiInner(req, method, url, body, requestId, apiVersion, headers);
    this.core.log(`${method} ${url.pathname} → ${reply.status} (${requestId})`);
    return reply;
  }

  private apiInner(
    req: IncomingMessage,
    method: string,
    url: URL,
    body: string,
    requestId: string,
    apiVersion: string,
    headers: Record<string, string>,
  ): Reply {
    const key = apiKeyOf(req);
    if (!key) {
      return errorReply(
        401,
        {
          type: "invalid_request_error",
          message:
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        },
        requestId,
      );
    }
    if (!key.startsWith("sk_test_")) {
      return errorReply(
        401,
        {
          type: "invalid_request_error",
          message: `Invalid API Key provided: ${redactKey(key)} (the local Stripe emulator accepts test secret keys, sk_test_…, only)`,
        },
        requestId,
      );
    }
    const match = matchRoute(API_ROUTES, method, url.pathname);
    if (!match) return this.failure(unrecognizedUrl(method, url.pathname), requestId);
    const contentType = headerValue(req, "content-type") ?? "";
    if (method === "POST" && contentType.includes("application/json")) {
      return errorReply(
        400,
        {
          type: "invalid_request_error",
          message:
            "Stripe's v1 API takes application/x-www-form-urlencoded bodies, not JSON (so does this emulator).",
        },
        requestId,
      );
    }
    let params: FormObject;
    try {
      params = method === "POST" ? parseForm(body) : parseForm(url.search.slice(1));
    } catch (e) {
      return this.failure(e, requestId);
    }
    const account = headerValue(req, "stripe-account") ?? null;
    if (account !== null && !this.core.state.accounts.get(account, null)) {
      return errorReply(
        403,
        {
          type: "invalid_request_error",
          code: "account_invalid",
          message: `The provided key '${redactKey(key)}' does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`,
        },
        requestId,
      );
    }
    const idemKey = method === "POST" ? (headerValue(req, "idempotency-key") ?? null) : null;
    if (idemKey !== null && idemKey.length > 255) {
      return errorReply(
        400,
        {
          type: "invalid_request_error",
          message: "Idempotency-Key must be at most 255 characters long.",
          param: "Idempotency-Key",
        },
        requestId,
      );
    }
    const store = this.core.state.idempotency;
    const scopedKey = idemKey === null ? null : `${account ?? "platform"}\u0000${idemKey}`;
    const fingerprint = `${method} ${url.pathname} ${canonical(params)}`;
    if (scopedKey !== null) {
      headers["Idempotency-Key"] = idemKey ?? "";
      const prior = store.get(scopedKey);
      if (prior && Date.now() - prior.storedAt < IDEMPOTENCY_TTL_MS) {
        if (prior.fingerprint !== fingerprint) {
          return errorReply(
            400,
            {
              type: "idempotency_error",
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idemKey}' if you meant to execute a different request.`,
            },
            requestId,
          );
        }
        headers["Idempotent-Replayed"] = "true";
        headers["Original-Request"] = prior.requestId;
        return {
          status: prior.status,
          headers: { "Content-Type": "application/json" },
          body: prior.body,
        };
      }
    }
    const request: RequestInfo = { id: requestId, idempotencyKey: idemKey, apiVersion };
    const ctx: ApiContext = {
      core: this.core,
      params,
      path: match.path,
      account,
      request,
      method,
      url: url.pathname,
    };
    let reply: Reply;
    let storeIt = true;
    try {
      const result = match.handler(ctx);
      reply = json(this.core.expand(result, expandList(params), account));
    } catch (e) {
      reply = this.failure(e, requestId);
      storeIt = e instanceof ApiError && e.stored;
    }
    if (scopedKey !== null && storeIt && reply.status < 500) {
      store.set(scopedKey, {
        method,
        path: url.pathname,
        fingerprint,
        status: reply.status,
        body: reply.body,
        storedAt: Date.now(),
        requestId,
      });
      while (store.size > MAX_IDEMPOTENCY_KEYS) {
        const oldest = store.keys().next().value;
        if (oldest === undefined) break;
        store.delete(oldest);
      }
    }
    return reply;
  }

  private async helper(
    req: IncomingMessage,
    method: string,
    url: URL,
    raw: string,
  ): Promise<Reply> {
    const match = matchRoute(HELPER_ROUTES, method, url.pathname);
    if (!match) {
      return json(
        {
          error: {
            type: "invalid_request_error",
            message: `Unrecognized emulator URL (${method}: ${url.pathname}). Stripe's API is under /v1, test helpers under /_emulator.`,
          },
        },
        404,
      );
    }
    const contentType = headerValue(req, "content-type") ?? "";
    let body: Record<string, unknown> = {};
    const isCapture =
      url.pathname.startsWith("/_emulator/capture/") &&
      method === "POST" &&
      !url.pathname.endsWith("/config");
    if (raw !== "" && !isCapture) {
      if (contentType.includes("application/json")) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          throw invalidRequest("Invalid JSON body.");
        }
        if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
          body = parsed as Record<string, unknown>;
        }
      } else {
        body = parseForm(raw);
      }
    }
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v[0] : v;
    const helperReq: HelperRequest = {
      core: this.core,
      helpers: this.helpers,
      path: match.path,
      query: url.searchParams,
      body,
      headers,
      rawBody: raw,
    };
    return await match.handler(helperReq);
  }
}

/** Starts the emulator; resolves once it listens. */
export async function startStripeEmulator(
  opts: StripeEmulatorOptions = {},
): Promise<StripeEmulator> {
  const host = opts.host ?? "127.0.0.1";
  const log = opts.log ?? (() => {});
  const dispatcher = new WebhookDispatcher({ ...DEFAULT_RETRY, ...opts.retry }, log);
  const core = new EmulatorCore(dispatcher, "", log);
  const server = new Server(core);
  const http = createServer((req, res) => {
    server.handle(req, res).catch((e: unknown) => {
      log(`request failed: ${errorMessage(e)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(opts.port ?? DEFAULT_PORT, host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  core.baseUrl = url;
  for (const e of opts.webhookEndpoints ?? []) dispatcher.add(e);
  const helpers = server.helpers;
  log(`Stripe emulator listening on ${url}`);

  return {
    url,
    host,
    port,
    secretKey: opts.secretKey ?? DEFAULT_SECRET_KEY,
    addWebhookEndpoint(e) {
      const endpoint = dispatcher.add(e);
      return { id: endpoint.id, secret: endpoint.secret };
    },
    removeWebhookEndpoint: (id) => dispatcher.remove(id),
    deliveries: (filter) => helpers.deliveries(filter),
    events: () => core.state.events.all(),
    captured: (name) => helpers.sinks.list(name),
    emitEvent: (input) => helpers.emitEvent(input),
    resendEvent: (eventId, endpointId) => helpers.resendEvent(eventId, endpointId).endpoints,
    trigger: (type) => helpers.trigger(type),
    pay: (id, pm) => helpers.pay(id, pm),
    completeAction: (id) => helpers.completeAction(id),
    failAction: (id) => helpers.failAction(id),
    openDispute: (id, o) => helpers.openDispute(id, o),
    completeOnboarding: (id) => helpers.completeOnboarding(id),
    disableAccount: (id, reason) => helpers.disableAccount(id, reason),
    pauseDelivery: () => dispatcher.pause(),
    resumeDelivery: () => dispatcher.resume(),
    waitForDeliveries: (timeoutMs = 10_000) => dispatcher.idle(timeoutMs),
    reset: () => helpers.reset(),
    async stop() {
      await dispatcher.stop();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
