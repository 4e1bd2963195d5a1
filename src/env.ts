import { z } from "zod";
import type { AuctionRoom } from "../durable-objects/auction-room.ts";
import type { DeliverySlots } from "../durable-objects/delivery-slots.ts";
import type { ProductStock } from "../durable-objects/product-stock.ts";

/** Every binding, var and secret the Worker reads. Declared once; parsed once per isolate. */
export interface Env {
  PRODUCT_STOCK: DurableObjectNamespace<ProductStock>;
  AUCTION_ROOM: DurableObjectNamespace<AuctionRoom>;
  DELIVERY_SLOTS: DurableObjectNamespace<DeliverySlots>;
  STRIPE_EVENTS: Queue<unknown>;
  NOTIFICATIONS: Queue<unknown>;
  /** Seller uploads worked off the request (src/jobs/imports.ts). */
  IMPORTS: Queue<unknown>;
  /** One message per shop whose intelligence is due (src/jobs/intelligence.ts). */
  INTELLIGENCE: Queue<unknown>;
  /** Uploaded files: CSV imports and receipt photos. */
  UPLOADS: R2Bucket;
  ENVIRONMENT?: string;
  DATABASE_URL?: string;
  NEON_LOCAL_WS_PROXY?: string;
  NEON_LOCAL_HTTP?: string;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  JWT_SECRET?: string;
  PASSWORD_PEPPER?: string;
  PBKDF2_ITERATIONS?: string;
  PLATFORM_FEE_BPS?: string;
  LOG_LEVEL?: string;
  RESEND_API_KEY?: string;
  MAIL_FROM?: string;
  STRIPE_SECRET_KEY?: string;
  STRIPE_PUBLISHABLE_KEY?: string;
  STRIPE_API_BASE?: string;
  STRIPE_WEBHOOK_SECRET?: string;
  STRIPE_CONNECT_WEBHOOK_SECRET?: string;
  STRIPE_WEBHOOK_TOLERANCE_SECONDS?: string;
  PAYMENT_WINDOW_MINUTES?: string;
  AUCTION_PAYMENT_DEADLINE_HOURS?: string;
  AUCTION_FRAME_BATCH_MS?: string;
  DELIVERY_FEE_MINOR?: string;
  FREE_DELIVERY_MIN_MINOR?: string;
  PUBLIC_URL?: string;
  /** The OCR service that reads receipt photos (the local stack starts one on tesseract.js). */
  OCR_PROVIDER_URL?: string;
  RATE_LIMIT_TIMEOUT_MS?: string;
  /** "1" turns on src/lib/dev-faults.ts in development and test only (`npm run faults`). */
  DEV_FAULT_HOOKS?: string;
}

/** Production refuses PBKDF2 above this; local workerd does not, so we refuse it ourselves. */
export const MAX_PBKDF2_ITERATIONS = 100_000;

const configSchema = z.object({
  ENVIRONMENT: z.enum(["development", "test", "production"]).default("production"),
  DATABASE_URL: z.string().url(),
  NEON_LOCAL_WS_PROXY: z.string().min(1).optional(),
  /** `host:port` of the local stack's Neon SQL-over-HTTP endpoint; unset in production. */
  NEON_LOCAL_HTTP: z.string().min(1).optional(),
  UPSTASH_REDIS_REST_URL: z.string().url().optional(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  JWT_SECRET: z.string().min(32, "JWT_SECRET must be at least 32 characters"),
  PASSWORD_PEPPER: z.string().min(16, "PASSWORD_PEPPER must be at least 16 characters"),
  PBKDF2_ITERATIONS: z.coerce
    .number()
    .int()
    .min(10_000)
    .max(MAX_PBKDF2_ITERATIONS)
    .default(MAX_PBKDF2_ITERATIONS),
  PLATFORM_FEE_BPS: z.coerce.number().int().min(0).max(10_000).default(200),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /**
   * How long a rate-limit check may wait on Redis. Past it, auth limits fail closed (503) and
   * others open. The test suite raises it: a loaded CI machine is slow, not an attacker.
   */
  RATE_LIMIT_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(1_500),
  /** Set: email goes out through Resend's HTTP API. Unset: it lands in the dev mailbox table. */
  RESEND_API_KEY: z
    .string()
    .optional()
    .transform((v) => v || undefined),
  MAIL_FROM: z.string().min(3).default("Souk <no-reply@souk.dev>"),
  /** Stripe's secret key. Locally the emulator's key; required in production. */
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_/, "STRIPE_SECRET_KEY must be a Stripe secret key")
    .optional(),
  /**
   * Stripe's publishable key: the console's payment page mounts the Payment Element with it.
   * Unset, that page names the amount and leaves paying to an app with the client secret.
   */
  STRIPE_PUBLISHABLE_KEY: z
    .string()
    .regex(/^pk_(test|live)_/, "STRIPE_PUBLISHABLE_KEY must be a Stripe publishable key")
    .optional(),
  /** Only the local stack sets it: the Stripe emulator's base URL (the SDK's host/port/protocol). */
  STRIPE_API_BASE: z.string().url().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith("whsec_").optional(),
  STRIPE_CONNECT_WEBHOOK_SECRET: z.string().startsWith("whsec_").optional(),
  /** Webhook timestamps further than this from now, in either direction, are refused. */
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  /** How long a checkout holds its stock waiting for payment. */
  PAYMENT_WINDOW_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(30),
  /** How long an auction winner has to pay. */
  AUCTION_PAYMENT_DEADLINE_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 14)
    .default(96),
  /**
   * Coalesce frames to auction watchers into one message (a JSON array) per this many ms;
   * 0 (the default) sends each frame the moment its bid commits.
   */
  AUCTION_FRAME_BATCH_MS: z.coerce.number().int().min(0).max(1000).default(0),
  /** Platform delivery fee rules (minor units), overridable per shop. */
  DELIVERY_FEE_MINOR: z.coerce.number().int().min(0).default(499),
  FREE_DELIVERY_MIN_MINOR: z.coerce.number().int().min(0).default(5000),
  /** Where the API is reachable (Stripe onboarding return links). */
  PUBLIC_URL: z.string().url().default("http://localhost:8787"),
  /** The OCR service behind receipt uploads; unset, a receipt upload is refused (503). */
  OCR_PROVIDER_URL: z.string().url().optional(),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

const cache = new WeakMap<object, Config>();

/**
 * Validates the Worker's vars and secrets. A missing or malformed secret fails here with a
 * message naming it, not later as `undefined` deep in a request.
 */
export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${fields.join("; ")}`);
  }
  if (parsed.data.UPSTASH_REDIS_REST_URL && !parsed.data.UPSTASH_REDIS_REST_TOKEN) {
    throw new ConfigError(
      "invalid configuration: UPSTASH_REDIS_REST_TOKEN is required with the URL",
    );
  }
  if (parsed.data.ENVIRONMENT === "production") {
    const missing = (
      ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET"] as const
    ).filter((k) => !parsed.data[k]);
    if (missing.length > 0) {
      throw new ConfigError(`invalid configuration: ${missing.join(", ")} required in production`);
    }
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
