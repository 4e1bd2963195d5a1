import Stripe from "stripe";
import { z } from "zod";
import { errorMessage } from "../../lib/errors.ts";
import { webCryptoProvider } from "../../lib/stripe.ts";

/**
 * What the webhook routes put on the `stripe-events` queue: the verified event, trimmed to what
 * the consumer reads. `source` says which endpoint (and so which signing secret) vouched for it.
 */
export const stripeEventMessage = z.object({
  id: z.string().startsWith("evt_"),
  type: z.string().min(1).max(200),
  /** Set for Connect events: the connected account the event happened on. */
  account: z.string().nullable(),
  /** Stripe's `created`, Unix seconds. */
  created: z.int(),
  livemode: z.boolean(),
  source: z.enum(["platform", "connect"]),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});
export type StripeEventMessage = z.infer<typeof stripeEventMessage>;

/** A webhook the routes refuse with 400: unsigned, forged, or outside the time window. */
export class WebhookRejected extends Error {
  override name = "WebhookRejected";
}

/**
 * The `t=` of a `Stripe-Signature` header (Unix seconds); null when there is none, or more than
 * one: stripe-node verifies against the last `t` while a reader of the first would check another
 * time, so a header naming two could pass the future-timestamp guard with a time nobody signed.
 */
export function signatureTimestamp(header: string): number | null {
  const found = header
    .split(",")
    .map((part) => part.split("="))
    .filter(([key]) => key?.trim() === "t");
  const value = found.length === 1 ? found[0]?.[1]?.trim() : undefined;
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}

export interface VerifyInput {
  /** The raw body, byte for byte as received: re-serialised JSON would not verify. */
  payload: string;
  signature: string | undefined;
  secret: string;
  toleranceSeconds: number;
  source: StripeEventMessage["source"];
  /** Milliseconds; the server clock unless a test pins it. */
  now?: number;
}

/**
 * Verifies a webhook as Stripe documents it (HMAC-SHA256 over `t.payload` with the endpoint's
 * secret, through WebCrypto) and turns it into the queue message. stripe-node only refuses
 * timestamps older than the tolerance; one further than the tolerance in the future is refused
 * here too, so a signed request captured with a skewed clock cannot be replayed for longer.
 */
export async function verifyWebhook(input: VerifyInput): Promise<StripeEventMessage> {
  const now = input.now ?? Date.now();
  if (!input.signature) throw new WebhookRejected("missing Stripe-Signature header");
  const t = signatureTimestamp(input.signature);
  if (t === null) {
    throw new WebhookRejected("Stripe-Signature header must carry exactly one timestamp");
  }
  let event: Stripe.Event;
  try {
    event = await Stripe.webhooks.constructEventAsync(
      input.payload,
      input.signature,
      input.secret,
      input.toleranceSeconds,
      webCryptoProvider,
      now,
    );
  } catch (err) {
    const reason = errorMessage(err);
    throw new WebhookRejected(`signature verification failed: ${reason}`);
  }
  if (t - Math.floor(now / 1000) > input.toleranceSeconds) {
    throw new WebhookRejected("Stripe-Signature timestamp is in the future beyond the tolerance");
  }
  const parsed = stripeEventMessage.safeParse({
    id: event.id,
    type: event.type,
    account: event.account ?? null,
    created: event.created,
    livemode: event.livemode,
    source: input.source,
    data: { object: event.data?.object },
  });
  if (!parsed.success) throw new WebhookRejected("the signed body is not a Stripe event");
  return parsed.data;
}
