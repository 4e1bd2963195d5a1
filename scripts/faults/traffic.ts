/**
 * What the fault scenarios send through the public API, and how they count the answers: buy-now
 * confirms under an Idempotency-Key, payments on the Stripe emulator (which then delivers its
 * signed webhooks), webhooks the harness signs itself (to deliver one event five times at once,
 * out of order, or timestamped in the future), and crons as the platform fires them.
 */
import { createHmac, randomUUID } from "node:crypto";
import { insertBuyers, signTokens, stockedProduct, stockLevels } from "../bench/souk.ts";
import type { Rig } from "./rig.ts";

export interface Answer {
  status: number;
  code: string;
  body: Record<string, unknown> | null;
  ms: number;
}

/** `status code` → count, status 0 for no answer at all (connection refused, reset, timeout). */
export class Tally {
  readonly counts = new Map<string, number>();
  add(a: Answer | number, label?: string): void {
    const status = typeof a === "number" ? a : a.status;
    const key = label ?? String(status === 0 ? "none" : status);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  toString(): string {
    return [...this.counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${v}×${k}`)
      .join(", ");
  }
}

export async function request(
  url: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> },
  timeoutMs = 60_000,
): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: init.method ?? "GET",
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: Record<string, unknown> | null = null;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {}
    const code = typeof body?.code === "string" ? body.code : "";
    return { status: res.status, code, body, ms: performance.now() - started };
  } catch (error) {
    const code = error instanceof Error ? error.name : "error";
    return { status: 0, code, body: null, ms: performance.now() - started };
  }
}

export interface Buyer {
  id: string;
  token: string;
}

export async function buyers(rig: Rig, count: number): Promise<Buyer[]> {
  const ids = await insertBuyers(rig.db, count);
  const tokens = await signTokens(ids, "buyer", rig.jwtSecret);
  return ids.map((id, i) => ({ id, token: tokens[i] ?? "" }));
}

/** A published product with `units` at the shop's branch, made through the seller API. */
export function product(rig: Rig, units: number, title: string): Promise<string> {
  return stockedProduct(rig.url, rig.sellerToken, rig.shop, units, title);
}

export function levels(rig: Rig, productId: string) {
  return stockLevels(rig.url, rig.sellerToken, productId, rig.shop.branchId);
}

/** One buyer's buy-now confirm of one unit, under `key`. */
export function confirm(
  rig: Rig,
  buyer: Buyer,
  productId: string,
  key: string = randomUUID(),
  timeoutMs = 60_000,
): Promise<Answer> {
  return request(
    `${rig.url}/v1/checkout/confirm`,
    {
      method: "POST",
      token: buyer.token,
      headers: { "idempotency-key": key },
      body: {
        items: [{ productId, quantity: 1 }],
        fulfilment: [{ shopId: rig.shop.id, method: "pickup", locationId: rig.shop.branchId }],
      },
    },
    timeoutMs,
  );
}

/**
 * Sends the same confirm again under the same key until it is answered with something other
 * than "no answer", 5xx or "in progress" (409 IDEMPOTENCY_IN_PROGRESS and kin), as a client
 * would; the last answer.
 */
export async function confirmUntilAnswered(
  rig: Rig,
  buyer: Buyer,
  productId: string,
  key: string,
  opts: { deadlineMs?: number; timeoutMs?: number } = {},
): Promise<{ answer: Answer; tries: number }> {
  const until = Date.now() + (opts.deadlineMs ?? 60_000);
  let tries = 0;
  for (;;) {
    tries += 1;
    const answer = await confirm(rig, buyer, productId, key, opts.timeoutMs);
    const transient =
      answer.status === 0 ||
      answer.status >= 500 ||
      (answer.status === 409 && answer.code !== "INSUFFICIENT_STOCK");
    if (!transient || Date.now() > until) return { answer, tries };
    await sleep(Math.min(4_000, 250 * 2 ** Math.min(tries, 4)));
  }
}

export function checkoutOf(a: Answer): { checkoutId: string; paymentIntentId: string } | null {
  const id = a.body?.checkoutId;
  const pi = a.body?.paymentIntentId;
  return typeof id === "string" ? { checkoutId: id, paymentIntentId: String(pi ?? "") } : null;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `ms` pass; whether it did. */
export async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {}
    if (Date.now() > until) return false;
    await sleep(300);
  }
}

// --- Stripe emulator -----------------------------------------------------------------------

async function emulator(rig: Rig, method: string, pathName: string, body?: unknown) {
  const res = await fetch(`${rig.stripe.url}${pathName}`, {
    method,
    headers: {
      authorization: `Bearer ${rig.stripe.secretKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok)
    throw new Error(`emulator ${method} ${pathName}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The buyer pays in the browser: the emulator confirms the PaymentIntent and sends webhooks. */
export async function pay(rig: Rig, paymentIntentId: string): Promise<string> {
  const pi = await emulator(rig, "POST", `/_emulator/payment_intents/${paymentIntentId}/pay`, {
    payment_method: "pm_card_visa",
  });
  return String(pi.status ?? "");
}

export function pauseWebhooks(rig: Rig): Promise<unknown> {
  return emulator(rig, "POST", "/_emulator/webhooks/pause");
}
export function resumeWebhooks(rig: Rig): Promise<unknown> {
  return emulator(rig, "POST", "/_emulator/webhooks/resume");
}

/** Until the emulator has nothing left to deliver (or 60 s). */
export async function webhooksIdle(rig: Rig): Promise<boolean> {
  const r = await emulator(rig, "POST", "/_emulator/webhooks/wait", { timeout_ms: 60_000 });
  return r.idle === true;
}

export interface StripeEvent {
  id: string;
  type: string;
  created: number;
  data: { object: Record<string, unknown> };
  [k: string]: unknown;
}

/** Events the emulator made about one object, oldest first. */
export async function eventsAbout(rig: Rig, objectId: string): Promise<StripeEvent[]> {
  const list = await emulator(rig, "GET", "/v1/events?limit=100");
  const data = (list.data as StripeEvent[]) ?? [];
  return data
    .filter((e) => e.data?.object?.id === objectId)
    .sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
}

export interface PaymentIntent {
  id: string;
  status: string;
  amount: number;
  metadata: Record<string, string>;
}

/** Every PaymentIntent the emulator holds. */
export async function paymentIntents(rig: Rig): Promise<PaymentIntent[]> {
  const out: PaymentIntent[] = [];
  let after: string | null = null;
  for (;;) {
    const q: string = after ? `&starting_after=${after}` : "";
    const page = await emulator(rig, "GET", `/v1/payment_intents?limit=100${q}`);
    const data = (page.data as PaymentIntent[]) ?? [];
    out.push(...data);
    if (page.has_more !== true || data.length === 0) return out;
    after = data.at(-1)?.id ?? null;
  }
}

/** Posts `event` to the platform webhook route, signed as Stripe signs it, at time `t`. */
export function deliver(rig: Rig, event: StripeEvent, t = Math.floor(Date.now() / 1000)) {
  const payload = JSON.stringify(event);
  const v1 = createHmac("sha256", rig.webhookSecret).update(`${t}.${payload}`).digest("hex");
  return fetch(`${rig.url}/v1/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": `t=${t},v1=${v1}` },
    body: payload,
    signal: AbortSignal.timeout(30_000),
  })
    .then(async (res) => {
      await res.text();
      return res.status;
    })
    .catch(() => 0);
}

/** A copy of a real event under another id (the consumer keys on the id). */
export function withId(event: StripeEvent, id: string): StripeEvent {
  return { ...event, id };
}

/**
 * Wrangler's local queues keep messages in memory: those in flight when workerd is killed are
 * gone, where Cloudflare Queues would deliver them again. After a kill the harness stands in
 * for that redelivery: every platform event since `sinceSec` that the consumer has not applied
 * is sent again by the emulator (as Stripe signs it). How many.
 */
export async function redeliverUnapplied(rig: Rig, sinceSec: number): Promise<number> {
  await webhooksIdle(rig).catch(() => false);
  await sleep(3_000);
  const list = await emulator(rig, "GET", "/v1/events?limit=100");
  const recent = ((list.data as StripeEvent[]) ?? []).filter(
    (e) => e.created >= sinceSec && !e.account,
  );
  const { rows } = await rig.pool.query<{ id: string }>(
    "select id from stripe_events where processed_at is not null and id = any($1)",
    [recent.map((e) => e.id)],
  );
  const done = new Set(rows.map((r) => r.id));
  let n = 0;
  for (const e of recent) {
    if (done.has(e.id)) continue;
    await emulator(rig, "POST", `/_emulator/events/${e.id}/resend`, {});
    n += 1;
  }
  return n;
}

/** The emulator's newest 100 events, newest first. */
export async function recentEvents(rig: Rig): Promise<StripeEvent[]> {
  const list = await emulator(rig, "GET", "/v1/events?limit=100");
  return (list.data as StripeEvent[]) ?? [];
}
