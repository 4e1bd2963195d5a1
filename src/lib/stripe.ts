import Stripe from "stripe";
import { type Config, ConfigError } from "../env.ts";

/** The emulator accepts any `sk_test_` key; this one is used when only STRIPE_API_BASE is set. */
const EMULATOR_KEY = "sk_test_souk_local_emulator";

/**
 * The real Stripe SDK with its fetch client (Workers have no Node http). With STRIPE_API_BASE
 * (the local stack) it talks to the Stripe emulator; otherwise to Stripe itself.
 */
export function createStripe(config: Config): Stripe {
  // One client per configuration and isolate: it holds no connection or request state (each
  // call is a fresh fetch), and building it costs CPU on every request that moves money.
  const built = clients.get(config);
  if (built) return built;
  const client = buildStripe(config);
  clients.set(config, client);
  return client;
}

const clients = new WeakMap<Config, Stripe>();

/** The Stripe client, or null when no key (nor the local emulator) is configured. */
export function stripeIfConfigured(config: Config): Stripe | null {
  try {
    return createStripe(config);
  } catch (err) {
    if (err instanceof ConfigError) return null;
    throw err;
  }
}

function buildStripe(config: Config): Stripe {
  const base = config.STRIPE_API_BASE ? new URL(config.STRIPE_API_BASE) : null;
  const key = config.STRIPE_SECRET_KEY ?? (base ? EMULATOR_KEY : null);
  if (!key) throw new ConfigError("invalid configuration: STRIPE_SECRET_KEY is not set");
  return new Stripe(key, {
    httpClient: Stripe.createFetchHttpClient(),
    maxNetworkRetries: 2,
    timeout: 10_000,
    ...(base
      ? {
          host: base.hostname,
          port: Number(base.port || (base.protocol === "https:" ? 443 : 80)),
          protocol: base.protocol === "https:" ? ("https" as const) : ("http" as const),
        }
      : {}),
  });
}

/**
 * A Stripe refusal that retrying the same request cannot fix (a 4xx: invalid request, card
 * error, permission, idempotency). Connection errors, 5xx and rate limits are worth a retry, so
 * callers let those throw and the queue or the next cron run tries again.
 */
export function isPermanentStripeError(err: unknown): err is Stripe.errors.StripeError {
  return (
    err instanceof Stripe.errors.StripeInvalidRequestError ||
    err instanceof Stripe.errors.StripeCardError ||
    err instanceof Stripe.errors.StripePermissionError ||
    err instanceof Stripe.errors.StripeIdempotencyError
  );
}

/** Stripe's error `code` (e.g. `payment_intent_unexpected_state`), if it is a Stripe error. */
export function stripeErrorCode(err: unknown): string | null {
  return err instanceof Stripe.errors.StripeError ? (err.code ?? null) : null;
}

/** Verifies webhook signatures with WebCrypto (Workers have no Node crypto HMAC by default). */
export const webCryptoProvider = Stripe.createSubtleCryptoProvider();

export type { Stripe };
