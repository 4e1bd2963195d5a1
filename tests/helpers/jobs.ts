import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index.ts";
import { openJobContext } from "../../src/jobs/context.ts";
import type { ServiceContext } from "../../src/services/context.ts";

/** A cron's services, opened as scheduled.ts opens them; closed after `fn`. */
export async function asCron<T>(fn: (ctx: ServiceContext) => Promise<T>): Promise<T> {
  const { ctx, close } = openJobContext(env, "test-cron");
  try {
    return await fn(ctx);
  } finally {
    await close();
  }
}

/** The actor a cron's services run as. */
export const cronActor = { type: "system" as const, id: null, requestId: "job:test-cron" };

/**
 * Fires a cron expression through the Worker's real `scheduled` handler and waits for it. The
 * run's rejection (some job failed) is returned, not thrown: a cron sweeps the whole shared
 * database, so another file's data may fail a job this test is not about; each test asserts on
 * its own job's `job_runs` row.
 */
export async function fireCron(cron: string): Promise<unknown> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron, scheduledTime: new Date() }), env, ctx);
  try {
    await waitOnExecutionContext(ctx);
    return null;
  } catch (err) {
    return err;
  }
}
