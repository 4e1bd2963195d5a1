import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq, gte } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { jobRuns } from "../../src/db/schema/index.ts";
import worker from "../../src/index.ts";
import { CRON_JOBS } from "../../src/jobs/scheduled.ts";
import wranglerToml from "../../wrangler.toml?raw";
import { withDb } from "../helpers/db.ts";

describe("cron triggers", () => {
  it("runs every job of a cron expression and records each run", async () => {
    const since = new Date(Date.now() - 1000);
    const controller = createScheduledController({
      cron: "*/5 * * * *",
      scheduledTime: new Date(),
    });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    const runs = await withDb((db) =>
      db
        .select()
        .from(jobRuns)
        .where(and(eq(jobRuns.cron, "*/5 * * * *"), gte(jobRuns.startedAt, since))),
    );
    expect(runs.map((r) => r.job).sort()).toEqual([
      "auction-unpaid",
      "payment-deadlines",
      "reservation-expiry",
    ]);
    expect(runs.every((r) => r.outcome === "ok" && r.finishedAt)).toBe(true);
  });

  it("has jobs for exactly the cron triggers wrangler.toml declares", () => {
    const block = /crons\s*=\s*\[([\s\S]*?)\]/.exec(wranglerToml)?.[1] ?? "";
    const declared = [...block.matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort();
    expect(declared.length).toBeGreaterThan(0);
    expect(Object.keys(CRON_JOBS).sort()).toEqual(declared);
  });
});
