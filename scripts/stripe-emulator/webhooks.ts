/**
 * Webhook delivery as Stripe does it: each event POSTed as JSON to every matching endpoint, with
 * `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, and retried with
 * exponential backoff on a non-2xx answer, a redirect, a timeout or a network error.
 *
 * One request in flight per endpoint. A failing event waits for its next try without holding
 * back the events behind it, so (as with Stripe) endpoints must not rely on delivery order.
 */
import { createHmac } from "node:crypto";
import { newId, unixNow, webhookSecret } from "./ids.ts";
import type { EventObject, WebhookEndpointObject } from "./objects.ts";
import type { Metadata } from "./params.ts";

export interface WebhookEndpointConfig {
  url: string;
  /** `whsec_…`; generated when omitted. */
  secret?: string;
  /** true: receives connected-account events (those with `account` set); false: platform ones. */
  connect: boolean;
  /** Event types to send; `["*"]` (the default) sends all. */
  enabledEvents?: string[];
  description?: string | null;
  metadata?: Metadata;
}

export interface RetryPolicy {
  /** Tries per event and endpoint, the first included (Stripe: about three days' worth). */
  maxAttempts: number;
  /** Delay before the second try; doubled for each later one, capped by maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** How long one POST may take before it counts as failed (Stripe allows about 10-20 s). */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  timeoutMs: 10_000,
};

export interface Endpoint {
  id: string;
  url: string;
  secret: string;
  connect: boolean;
  enabledEvents: string[];
  description: string | null;
  metadata: Metadata;
  status: "enabled" | "disabled";
  created: number;
}

interface Pending {
  seq: number;
  event: EventObject;
  attempt: number;
  nextAt: number;
}

interface EndpointQueue {
  pending: Pending[];
  busy: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface DeliveryAttempt {
  id: string;
  event_id: string;
  event_type: string;
  account: string | null;
  endpoint_id: string;
  url: string;
  attempt: number;
  /** The endpoint's HTTP status, or null when the request itself failed. */
  status: number | null;
  error: string | null;
  /** delivered: 2xx; retrying: failed, another try is scheduled; gave_up: failed, last try. */
  outcome: "delivered" | "retrying" | "gave_up";
  next_retry_at: string | null;
  attempted_at: string;
  duration_ms: number;
  response_body: string;
}

/** The `Stripe-Signature` header value for a payload, exactly as Stripe computes it. */
export function signatureHeader(payload: string, secret: string, timestamp = unixNow()): string {
  const signature = createHmac("sha256", secret).update(`${timestamp}.${payload}`).digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

/** The body Stripe sends: the event object as pretty-printed JSON. */
export function eventPayload(event: EventObject): string {
  return JSON.stringify(event, null, 2);
}

export function endpointObject(e: Endpoint, withSecret: boolean): WebhookEndpointObject {
  return {
    id: e.id,
    object: "webhook_endpoint",
    api_version: null,
    application: null,
    created: e.created,
    description: e.description,
    enabled_events: [...e.enabledEvents],
    livemode: false,
    metadata: { ...e.metadata },
    ...(withSecret ? { secret: e.secret } : {}),
    status: e.status,
    url: e.url,
  };
}

export class WebhookDispatcher {
  readonly endpoints = new Map<string, Endpoint>();
  readonly attempts: DeliveryAttempt[] = [];
  private readonly queues = new Map<string, EndpointQueue>();
  private readonly retry: RetryPolicy;
  private readonly log: (m: string) => void;
  private paused = false;
  private stopped = false;
  private seq = 0;
  private readonly inFlight = new Set<Promise<void>>();
  /** Kept bounded so a long dev session does not grow without limit. */
  private readonly maxAttemptsLogged = 5_000;

  constructor(retry: RetryPolicy, log: (m: string) => void) {
    this.retry = retry;
    this.log = log;
  }

  add(config: WebhookEndpointConfig): Endpoint {
    const endpoint: Endpoint = {
      id: newId("we"),
      url: config.url,
      secret: config.secret ?? webhookSecret(),
      connect: config.connect,
      enabledEvents: config.enabledEvents ?? ["*"],
      description: config.description ?? null,
      metadata: config.metadata ?? {},
      status: "enabled",
      created: unixNow(),
    };
    this.endpoints.set(endpoint.id, endpoint);
    this.queues.set(endpoint.id, { pending: [], busy: false, timer: null });
    return endpoint;
  }

  remove(id: string): boolean {
    const queue = this.queues.get(id);
    if (queue?.timer) clearTimeout(queue.timer);
    this.queues.delete(id);
    return this.endpoints.delete(id);
  }

  /** Which endpoints an event goes to: platform events to platform endpoints, Connect to Connect. */
  matching(event: EventObject): Endpoint[] {
    return [...this.endpoints.values()].filter(
      (e) =>
        e.status === "enabled" &&
        e.connect === (event.account !== undefined) &&
        (e.enabledEvents.includes("*") || e.enabledEvents.includes(event.type)),
    );
  }

  /** Queues an event for every matching endpoint (or one); returns the endpoints it went to. */
  enqueue(event: EventObject, onlyEndpointId?: string): Endpoint[] {
    const targets = this.matching(event).filter((e) => !onlyEndpointId || e.id === onlyEndpointId);
    for (const endpoint of targets) {
      const queue = this.queues.get(endpoint.id);
      if (!queue) continue;
      queue.pending.push({ seq: this.seq++, event, attempt: 0, nextAt: Date.now() });
      event.pending_webhooks += 1;
      this.pump(endpoint.id);
    }
    return targets;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const id of this.queues.keys()) this.pump(id);
  }

  isPaused(): boolean {
    return this.paused;
  }

  pendingCount(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.pending.length + (q.busy ? 1 : 0);
    return n;
  }

  /** Resolves true once nothing is queued or in flight, false if timeoutMs passes first. */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pendingCount() > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** Drops every queued delivery and the attempt log; endpoints stay. */
  clear(): void {
    for (const q of this.queues.values()) {
      if (q.timer) clearTimeout(q.timer);
      q.timer = null;
      q.pending = [];
    }
    this.attempts.length = 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const q of this.queues.values()) {
      if (q.timer) clearTimeout(q.timer);
      q.timer = null;
    }
    await Promise.allSettled([...this.inFlight]);
  }

  private pump(endpointId: string): void {
    const queue = this.queues.get(endpointId);
    const endpoint = this.endpoints.get(endpointId);
    if (!queue || !endpoint || queue.busy || this.paused || this.stopped) return;
    if (queue.timer) {
      clearTimeout(queue.timer);
      queue.timer = null;
    }
    if (queue.pending.length === 0) return;
    const now = Date.now();
    let next: Pending | undefined;
    for (const p of queue.pending) {
      if (!next || p.nextAt < next.nextAt || (p.nextAt === next.nextAt && p.seq < next.seq)) {
        next = p;
      }
    }
    if (!next) return;
    if (next.nextAt > now) {
      queue.timer = setTimeout(() => this.pump(endpointId), next.nextAt - now);
      return;
    }
    const item = next;
    queue.pending = queue.pending.filter((p) => p !== item);
    queue.busy = true;
    const run = this.attempt(endpoint, item)
      .then((retryItem) => {
        if (retryItem && !this.stopped && this.queues.get(endpointId) === queue) {
          queue.pending.push(retryItem);
        }
      })
      .finally(() => {
        queue.busy = false;
        this.inFlight.delete(run);
        this.pump(endpointId);
      });
    this.inFlight.add(run);
  }

  /** One POST. Returns the item to retry later, or null when delivered or given up. */
  private async attempt(endpoint: Endpoint, item: Pending): Promise<Pending | null> {
    const payload = eventPayload(item.event);
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    let responseBody = "";
    try {
      const res = await fetch(endpoint.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json; charset=utf-8",
          "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
          "Cache-Control": "no-cache",
          Accept: "*/*; q=0.5, application/xml",
          "Stripe-Signature": signatureHeader(payload, endpoint.secret),
        },
        body: payload,
        redirect: "manual",
        signal: AbortSignal.timeout(this.retry.timeoutMs),
      });
      status = res.status;
      responseBody = (await res.text().catch(() => "")).slice(0, 500);
    } catch (e) {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    const attemptNo = item.attempt + 1;
    const delivered = status !== null && status >= 200 && status < 300;
    const giveUp = !delivered && attemptNo >= this.retry.maxAttempts;
    const delay = Math.min(this.retry.baseDelayMs * 2 ** (attemptNo - 1), this.retry.maxDelayMs);
    const nextAt = delivered || giveUp ? null : Date.now() + delay;
    this.record({
      id: newId("whatt", 14),
      event_id: item.event.id,
      event_type: item.event.type,
      account: item.event.account ?? null,
      endpoint_id: endpoint.id,
      url: endpoint.url,
      attempt: attemptNo,
      status,
      error,
      outcome: delivered ? "delivered" : giveUp ? "gave_up" : "retrying",
      next_retry_at: nextAt === null ? null : new Date(nextAt).toISOString(),
      attempted_at: new Date(started).toISOString(),
      duration_ms: Date.now() - started,
      response_body: responseBody,
    });
    const what = `${item.event.type} ${item.event.id} → ${endpoint.url}`;
    if (delivered) {
      this.log(`webhook ${what}: ${status} (try ${attemptNo})`);
    } else {
      const why = status === null ? error : `HTTP ${status}`;
      this.log(
        `webhook ${what}: ${why} (try ${attemptNo}${giveUp ? ", giving up" : `, next in ${delay} ms`})`,
      );
    }
    if (delivered || giveUp) {
      item.event.pending_webhooks = Math.max(0, item.event.pending_webhooks - 1);
      return null;
    }
    return { ...item, attempt: attemptNo, nextAt: nextAt ?? Date.now() };
  }

  private record(a: DeliveryAttempt): void {
    this.attempts.push(a);
    if (this.attempts.length > this.maxAttemptsLogged) {
      this.attempts.splice(0, this.attempts.length - this.maxAttemptsLogged);
    }
  }
}
