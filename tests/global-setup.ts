import type { TestProject } from "vitest/node";
import { startStack } from "../scripts/stack/stack.ts";
import { startStripeEmulator } from "../scripts/stripe-emulator/emulator.ts";

/** Fixed test signing secrets: the Worker verifies with these, the emulator signs with them. */
const STRIPE_WEBHOOK_SECRET = "whsec_test_souk_platform_0123456789abcdef";
const STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_test_souk_connect_0123456789abcdef";

declare module "vitest" {
  export interface ProvidedContext {
    /** A fresh database for this run (or embedded PGlite), migrations applied. */
    databaseUrl: string;
    /** `127.0.0.1:PORT` of the WebSocket bridge the Neon driver goes through. */
    neonLocalWsProxy: string;
    /** `127.0.0.1:PORT` of the local Neon SQL-over-HTTP endpoint the driver's `neon()` uses. */
    neonLocalHttp: string;
    /** Upstash REST bridge URL and token; both empty when no Redis answered. */
    redisRestUrl: string;
    redisRestToken: string;
    /** The local Stripe emulator, `http://127.0.0.1:PORT`, and the sk_test_ key it is used with. */
    stripeApiUrl: string;
    stripeSecretKey: string;
    /**
     * Secrets the emulator signs webhooks with. Its deliveries go to its own capture sinks,
     * `${stripeApiUrl}/_emulator/capture/platform` and `…/capture/connect`.
     */
    stripeWebhookSecret: string;
    stripeConnectWebhookSecret: string;
    /** The local OCR service (tesseract.js) receipts are read by, `http://127.0.0.1:PORT`. */
    ocrProviderUrl: string;
  }
}

/** Starts the local stack once per run and hands its addresses to the Worker's bindings. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startStack({ mode: "test" });
  let stripe: Awaited<ReturnType<typeof startStripeEmulator>>;
  try {
    // Short retry delays so a test can watch a failing endpoint get its event on a later try.
    stripe = await startStripeEmulator({
      port: 0,
      retry: { baseDelayMs: 100, maxDelayMs: 2_000, maxAttempts: 6 },
    });
  } catch (err) {
    // Never leave the run's database behind because a later part of the setup failed.
    await stack.stop();
    throw err;
  }
  stripe.addWebhookEndpoint({
    url: `${stripe.url}/_emulator/capture/platform`,
    secret: STRIPE_WEBHOOK_SECRET,
    connect: false,
  });
  stripe.addWebhookEndpoint({
    url: `${stripe.url}/_emulator/capture/connect`,
    secret: STRIPE_CONNECT_WEBHOOK_SECRET,
    connect: true,
  });
  project.provide("databaseUrl", stack.databaseUrl);
  project.provide("neonLocalWsProxy", stack.neonLocalWsProxy);
  project.provide("neonLocalHttp", stack.neonLocalHttp);
  project.provide("redisRestUrl", stack.redisRest?.url ?? "");
  project.provide("redisRestToken", stack.redisRest?.token ?? "");
  project.provide("stripeApiUrl", stripe.url);
  project.provide("stripeSecretKey", stripe.secretKey);
  project.provide("stripeWebhookSecret", STRIPE_WEBHOOK_SECRET);
  project.provide("stripeConnectWebhookSecret", STRIPE_CONNECT_WEBHOOK_SECRET);
  project.provide("ocrProviderUrl", stack.ocrUrl);
  return async () => {
    await stripe.stop();
    await stack.stop();
  };
}
