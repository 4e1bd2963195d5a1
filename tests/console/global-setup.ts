/**
 * The console tests' stack: the local stack as `npm run dev` runs it (a fresh test database on
 * the local Postgres or embedded PGlite, the Neon bridges, Redis when it answers) and the Worker
 * under wrangler on 127.0.0.1:8990, with its static assets, over real HTTP for a real browser,
 * and the Stripe emulator on 8991 in its own process (as the faults run starts it), delivering
 * its signed webhooks to that Worker, so a checkout in the browser is paid as in `npm run dev`.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startWorker } from "../../scripts/bench/souk.ts";
import {
  type StripeProcess,
  startStripeProcess,
  webhookSecret,
  workerVars,
} from "../../scripts/stack/local-worker.ts";
import { startStack } from "../../scripts/stack/stack.ts";
import { CONSOLE_PORTS } from "./ports.ts";

declare module "vitest" {
  export interface ProvidedContext {
    consoleUrl: string;
    consoleDatabaseUrl: string;
    consoleJwtSecret: string;
    consolePepper: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startStack({ mode: "test", env: { ...process.env, CI: undefined } });
  const persistTo = mkdtempSync(path.join(tmpdir(), "souk-console-"));
  const jwtSecret = randomBytes(32).toString("base64url");
  const pepper = randomBytes(24).toString("base64url");
  const platformSecret = webhookSecret();
  const connectSecret = webhookSecret();
  const hooks = `http://127.0.0.1:${CONSOLE_PORTS.worker}/v1/webhooks/stripe`;
  let stripe: StripeProcess;
  try {
    // Events raised before the Worker listens are retried with backoff until it does.
    stripe = await startStripeProcess({
      port: CONSOLE_PORTS.stripe,
      webhooks: [
        { url: hooks, secret: platformSecret, connect: false },
        { url: `${hooks}/connect`, secret: connectSecret, connect: true },
      ],
    });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  const vars = workerVars({
    stack,
    stripe,
    jwtSecret,
    overrides: {
      PASSWORD_PEPPER: pepper,
      PBKDF2_ITERATIONS: "100000",
      STRIPE_WEBHOOK_SECRET: platformSecret,
      STRIPE_CONNECT_WEBHOOK_SECRET: connectSecret,
    },
  });
  let worker: Awaited<ReturnType<typeof startWorker>>;
  try {
    process.env.WRANGLER_LOG ??= "error";
    worker = await startWorker({
      vars,
      persistTo,
      port: CONSOLE_PORTS.worker,
      logFile: path.join(persistTo, "worker.log"),
    });
  } catch (err) {
    // The Worker's log stays in persistTo, which the error names.
    await stripe.stop();
    await stack.stop();
    throw err;
  }
  // The browser goes to localhost: a Secure cookie over plain HTTP is kept there only.
  project.provide("consoleUrl", worker.url.replace("127.0.0.1", "localhost"));
  project.provide("consoleDatabaseUrl", stack.databaseUrl);
  project.provide("consoleJwtSecret", jwtSecret);
  project.provide("consolePepper", pepper);
  return async () => {
    await worker.stop();
    await stripe.stop();
    await stack.stop();
    rmSync(persistTo, { recursive: true, force: true });
  };
}
