/**
 * Test helpers for the local Stripe emulator, used from inside workerd: the real SDK pointed at
 * it, its `/_emulator` helpers, and the capture sinks its webhooks go to (tests/global-setup.ts).
 */
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { eventually } from "./eventually.ts";

/** A Stripe binding the test config sets; a clear error if the global setup did not. */
export function stripeBinding(
  name:
    | "STRIPE_API_BASE"
    | "STRIPE_SECRET_KEY"
    | "STRIPE_WEBHOOK_SECRET"
    | "STRIPE_CONNECT_WEBHOOK_SECRET",
): string {
  const value = env[name];
  if (!value) {
    throw new Error(`${name} is not bound: tests/global-setup.ts and vitest.config.ts set it`);
  }
  return value;
}

export const apiBase = () => stripeBinding("STRIPE_API_BASE");

/** The real SDK, with its fetch client, aimed at the emulator. */
export function stripeClient(): Stripe {
  const base = new URL(apiBase());
  return new Stripe(stripeBinding("STRIPE_SECRET_KEY"), {
    httpClient: Stripe.createFetchHttpClient(),
    host: base.hostname,
    port: Number(base.port),
    protocol: "http",
    maxNetworkRetries: 0,
  });
}

export const subtleCrypto = Stripe.createSubtleCryptoProvider();

/** Calls an `/_emulator/…` helper with a JSON body; throws with the answer on a non-2xx. */
export async function emulator<T = unknown>(
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: Record<string, unknown>,
): Promise<T> {
  const res = await fetch(`${apiBase()}${path}`, {
    method,
    ...(body
      ? { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }
      : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

export interface Captured {
  event_id: string | null;
  event_type: string | null;
  account: string | null;
  object_id: string | null;
  stripe_signature: string | null;
  content_type: string | null;
  body: string;
  status: number;
}

export interface DeliveryAttempt {
  event_id: string;
  endpoint_id: string;
  attempt: number;
  status: number | null;
  outcome: "delivered" | "retrying" | "gave_up";
}

/** What the capture sink `name` received, filtered. */
export async function captured(
  name: string,
  filter: { type?: string; objectId?: string; eventId?: string } = {},
): Promise<Captured[]> {
  const q = new URLSearchParams();
  if (filter.type) q.set("type", filter.type);
  if (filter.objectId) q.set("object_id", filter.objectId);
  if (filter.eventId) q.set("event_id", filter.eventId);
  const list = await emulator<{ data: Captured[] }>(
    "GET",
    `/_emulator/capture/${encodeURIComponent(name)}?${q}`,
  );
  return list.data;
}

/** Waits for a successful (2xx) delivery of an event about `objectId` to sink `name`. */
export function delivered(
  name: string,
  type: string,
  objectId: string,
  timeoutMs?: number,
): Promise<Captured> {
  return eventually(
    async () => (await captured(name, { type, objectId })).find((c) => c.status < 300),
    timeoutMs,
    `${type} for ${objectId} at capture sink ${name}`,
  );
}

/** A fresh, fully onboarded Express account that can receive transfers. */
export async function onboardedAccount(stripe: Stripe): Promise<Stripe.Account> {
  const account = await stripe.accounts.create({
    type: "express",
    country: "US",
    capabilities: { transfers: { requested: true }, card_payments: { requested: true } },
  });
  await emulator("POST", `/_emulator/accounts/${account.id}/onboard`);
  return stripe.accounts.retrieve(account.id);
}

/** A PaymentIntent paid by card (server-side confirm, redirects off so no return_url needed). */
export async function paidIntent(
  stripe: Stripe,
  amount = 5_000,
  extra: Partial<Stripe.PaymentIntentCreateParams> = {},
): Promise<Stripe.PaymentIntent> {
  return stripe.paymentIntents.create({
    amount,
    currency: "usd",
    automatic_payment_methods: { enabled: true, allow_redirects: "never" },
    payment_method: "pm_card_visa",
    confirm: true,
    ...extra,
  });
}
