/**
 * What the scripts that run their own Worker (burst, bench:profile, faults) share: the Worker's
 * vars for a started stack and a Stripe emulator, and the emulator in a process of its own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { DEFAULT_SECRET_KEY } from "../stripe-emulator/emulator.ts";
import { ROOT } from "./dev-database.ts";
import type { Stack } from "./stack.ts";

export interface StripeTarget {
  url: string;
  secretKey: string;
}

/** A fresh `whsec_…` signing secret. */
export function webhookSecret(): string {
  return `whsec_${randomBytes(24).toString("hex")}`;
}

/**
 * The Worker's vars as `npm run dev` sets them (development, the stack's bridges, Redis when there
 * is one, the emulator), with fresh secrets unless given; `overrides` last (a proxy's address in
 * place of a bridge's, say).
 */
export function workerVars(opts: {
  stack: Pick<Stack, "databaseUrl" | "neonLocalWsProxy" | "neonLocalHttp" | "redisRest" | "ocrUrl">;
  stripe: StripeTarget;
  jwtSecret: string;
  overrides?: Record<string, string>;
}): Record<string, string> {
  const { stack, stripe } = opts;
  const vars: Record<string, string> = {
    ENVIRONMENT: "development",
    DATABASE_URL: stack.databaseUrl,
    JWT_SECRET: opts.jwtSecret,
    PASSWORD_PEPPER: randomBytes(24).toString("base64url"),
    STRIPE_API_BASE: stripe.url,
    STRIPE_SECRET_KEY: stripe.secretKey,
    STRIPE_WEBHOOK_SECRET: webhookSecret(),
    STRIPE_CONNECT_WEBHOOK_SECRET: webhookSecret(),
    LOG_LEVEL: "warn",
    OCR_PROVIDER_URL: stack.ocrUrl,
  };
  if (stack.neonLocalWsProxy) vars.NEON_LOCAL_WS_PROXY = stack.neonLocalWsProxy;
  if (stack.neonLocalHttp) vars.NEON_LOCAL_HTTP = stack.neonLocalHttp;
  if (stack.redisRest) {
    vars.UPSTASH_REDIS_REST_URL = stack.redisRest.url;
    vars.UPSTASH_REDIS_REST_TOKEN = stack.redisRest.token;
  }
  return { ...vars, ...opts.overrides };
}

/** Resolves once `url` answers anything over HTTP. */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${url} did not answer in ${Math.round(timeoutMs / 1000)} s`);
}

export interface StripeProcess extends StripeTarget {
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The Stripe emulator in its own process: a stack on embedded PGlite runs the database in this
 * one, and while its WASM works through a burst the event loop is too busy to answer Stripe
 * within the SDK's 10 s (402 PAYMENT_FAILED). Webhooks go to `webhooks`, signed with each secret.
 */
export async function startStripeProcess(opts: {
  port: number;
  webhooks?: Array<{ url: string; secret: string; connect: boolean }>;
}): Promise<StripeProcess> {
  const args = ["--port", String(opts.port), "--quiet"];
  for (const w of opts.webhooks ?? []) {
    args.push(w.connect ? "--connect-webhook" : "--webhook", w.url);
    args.push(w.connect ? "--connect-secret" : "--secret", w.secret);
  }
  const child = spawn(
    process.execPath,
    [path.join(ROOT, "scripts/stripe-emulator/main.ts"), ...args],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${opts.port}`;
  try {
    await waitForHttp(url);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, secretKey: DEFAULT_SECRET_KEY, process: child, stop };
}
