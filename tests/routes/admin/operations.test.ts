import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  deadLetters,
  jobRuns,
  notifications,
  paymentIssues,
} from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { auditRows } from "../../helpers/audit.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { createAdmin } from "../../helpers/shops.ts";
import { eventually } from "../../helpers/stripe.ts";
import { registerUser } from "../../helpers/users.ts";

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface DeadLetter {
  id: string;
  queue: string;
  status: string;
  replayable: boolean;
  resolvedAt: string | null;
}
interface Issue {
  id: string;
  status: string;
  resolvedBy: string | null;
  resolutionNote: string | null;
}
interface JobRun {
  id: string;
  job: string;
  outcome: string;
  detail: unknown;
}

async function deadLetter(queue: string, body: unknown): Promise<string> {
  const id = uuidv7();
  await withDb((db) =>
    db.insert(deadLetters).values({ id, queue, messageId: `msg-${id}`, body, attempts: 6 }),
  );
  return id;
}

describe("admin operations: dead letters", () => {
  it("lists dead letters to admins only, by status, queue and since, a page at a time", async () => {
    const [admin, buyer] = await Promise.all([createAdmin(), registerUser()]);
    const since = new Date(Date.now() - 1000).toISOString();
    const older = await deadLetter("stripe-events", { id: "evt_older", type: "x" });
    const newer = await deadLetter("stripe-events", { id: "evt_newer", type: "x" });
    const query = `since=${encodeURIComponent(since)}&queue=stripe-events&status=open`;

    const first = await api<Page<DeadLetter>>("GET", `/v1/admin/dead-letters?limit=1&${query}`, {
      token: admin.accessToken,
    });
    expect(first.status).toBe(200);
    expect(first.body.items.map((d) => d.id)).toEqual([newer]);
    expect(first.body.items[0]).toMatchObject({ status: "open", replayable: true });
    const second = await api<Page<DeadLetter>>(
      "GET",
      `/v1/admin/dead-letters?limit=1&${query}&cursor=${first.body.nextCursor}`,
      { token: admin.accessToken },
    );
    expect(second.body.items.map((d) => d.id)).toEqual([older]);

    const resolved = await api<Page<DeadLetter>>(
      "GET",
      `/v1/admin/dead-letters?status=resolved&since=${encodeURIComponent(since)}`,
      { token: admin.accessToken },
    );
    expect(resolved.body.items.map((d) => d.id)).not.toContain(newer);

    expect((await api("GET", "/v1/admin/dead-letters", { token: buyer.accessToken })).status).toBe(
      403,
    );
    const bad = await api<Problem>("GET", "/v1/admin/dead-letters?since=yesterday", {
      token: admin.accessToken,
    });
    expect(bad.status).toBe(422);
  });

  it("replays a dead letter to its queue once, with one audit row; a second replay is 409", async () => {
    const [admin, user] = await Promise.all([createAdmin(), registerUser()]);
    const dedupeKey = `replay:${crypto.randomUUID()}`;
    const id = await deadLetter("notifications", {
      userId: user.id,
      kind: "test",
      title: "Back from the dead",
      body: "Replayed",
      dedupeKey,
    });
    const path = `/v1/admin/dead-letters/${id}/replay`;

    const replayed = await api<DeadLetter>("POST", path, { token: admin.accessToken });
    expect(replayed.status, JSON.stringify(replayed.body)).toBe(200);
    expect(replayed.body).toMatchObject({ id, status: "resolved", replayable: false });
    await eventually(
      async () => {
        const [n] = await withDb((db) =>
          db.select().from(notifications).where(eq(notifications.dedupeKey, dedupeKey)),
        );
        return n;
      },
      undefined,
      "the replayed notification to be delivered",
    );

    const again = await api<Problem>("POST", path, { token: admin.accessToken });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CONFLICT");
    const rows = await auditRows(id, { action: "dead_letter.replayed" });
    expect(rows).toEqual([expect.objectContaining({ actorId: admin.id })]);

    const buyer = await registerUser();
    const other = await deadLetter("notifications", { kind: "x" });
    expect(
      (await api("POST", `/v1/admin/dead-letters/${other}/replay`, { token: buyer.accessToken }))
        .status,
    ).toBe(403);
    expect(
      (await api("POST", `/v1/admin/dead-letters/${uuidv7()}/replay`, { token: admin.accessToken }))
        .status,
    ).toBe(404);
  });

  it("refuses to replay a message whose secret was redacted (409), and leaves it open", async () => {
    const admin = await createAdmin();
    const id = await deadLetter("notifications", {
      kind: "shop.otp",
      title: "Code",
      body: "",
      dedupeKey: `otp:${crypto.randomUUID()}`,
      email: { to: "shop@example.test", subject: "Code", text: "[redacted]" },
    });
    const res = await api<Problem & { reason?: string }>(
      "POST",
      `/v1/admin/dead-letters/${id}/replay`,
      { token: admin.accessToken },
    );
    expect(res.status).toBe(409);
    const [row] = await withDb((db) => db.select().from(deadLetters).where(eq(deadLetters.id, id)));
    expect(row?.resolvedAt).toBeNull();
    expect(await auditRows(id, { action: "dead_letter.replayed" })).toEqual([]);
  });
});

describe("admin operations: payment issues", () => {
  it("lists open issues and resolves one with a note, once, with one audit row", async () => {
    const [admin, buyer] = await Promise.all([createAdmin(), registerUser()]);
    const id = uuidv7();
    const pi = `pi_issue_${id.replaceAll("-", "")}`;
    await withDb((db) =>
      db.insert(paymentIssues).values({
        id,
        kind: "amount_mismatch",
        checkoutId: null,
        paymentIntentId: pi,
        stripeEventId: null,
        detail: { problems: ["amount: Stripe 3100, checkout 3000"] },
      }),
    );
    const since = encodeURIComponent(new Date(Date.now() - 60_000).toISOString());
    const open = await api<Page<Issue>>(
      "GET",
      `/v1/admin/payment-issues?status=open&kind=amount_mismatch&since=${since}&limit=100`,
      { token: admin.accessToken },
    );
    expect(open.status).toBe(200);
    expect(open.body.items.find((i) => i.id === id)).toMatchObject({ status: "open" });

    const path = `/v1/admin/payment-issues/${id}/resolve`;
    const empty = await api<Problem>("POST", path, { token: admin.accessToken, body: {} });
    expect(empty.status).toBe(422);
    expect(empty.body.errors?.[0]?.field).toBe("note");
    expect(
      (await api("POST", path, { token: buyer.accessToken, body: { note: "not mine" } })).status,
    ).toBe(403);

    const note = "Refunded the 1.00 difference on Stripe; buyer told.";
    const resolved = await api<Issue>("POST", path, { token: admin.accessToken, body: { note } });
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    expect(resolved.body).toMatchObject({
      id,
      status: "resolved",
      resolvedBy: admin.id,
      resolutionNote: note,
    });
    const again = await api<Problem>("POST", path, {
      token: admin.accessToken,
      body: { note: "twice" },
    });
    expect(again.status).toBe(409);
    expect(await auditRows(id, { action: "payment_issue.resolved" })).toEqual([
      expect.objectContaining({ actorId: admin.id }),
    ]);

    const stillOpen = await api<Page<Issue>>(
      "GET",
      `/v1/admin/payment-issues?status=open&since=${since}&limit=100`,
      { token: admin.accessToken },
    );
    expect(stillOpen.body.items.map((i) => i.id)).not.toContain(id);
    const done = await api<Page<Issue>>(
      "GET",
      `/v1/admin/payment-issues?status=resolved&since=${since}&limit=100`,
      { token: admin.accessToken },
    );
    expect(done.body.items.map((i) => i.id)).toContain(id);
    expect(
      (
        await api("POST", `/v1/admin/payment-issues/${uuidv7()}/resolve`, {
          token: admin.accessToken,
          body: { note },
        })
      ).status,
    ).toBe(404);
  });
});

describe("admin operations: text Postgres cannot store", () => {
  it("is a 422 naming the field, in a filter or a note", async () => {
    const admin = await createAdmin();
    const kind = await api<Problem>("GET", "/v1/admin/payment-issues?kind=%00", {
      token: admin.accessToken,
    });
    expect(kind.status).toBe(422);
    expect(kind.body.errors?.[0]?.field).toBe("kind");
    const job = await api<Problem>("GET", "/v1/admin/job-runs?job=a%00b", {
      token: admin.accessToken,
    });
    expect(job.status).toBe(422);
    const note = await api<Problem>("POST", `/v1/admin/payment-issues/${uuidv7()}/resolve`, {
      token: admin.accessToken,
      body: { note: "done\u0000 here" },
    });
    expect(note.status).toBe(422);
    expect(note.body.errors?.[0]?.field).toBe("note");
  });
});

describe("admin operations: job runs", () => {
  it("lists job runs by job, outcome and since, newest first", async () => {
    const admin = await createAdmin();
    const job = `test-job-${crypto.randomUUID().slice(0, 8)}`;
    const now = Date.now();
    const run = (outcome: string, ago: number) => ({
      id: uuidv7(now - ago),
      job,
      cron: "*/5 * * * *",
      startedAt: new Date(now - ago),
      finishedAt: new Date(now - ago + 10),
      outcome,
      detail: outcome === "failed" ? { error: "boom" } : { done: 1 },
    });
    const rows = [run("ok", 3 * 3_600_000), run("failed", 60_000), run("ok", 30_000)];
    await withDb((db) => db.insert(jobRuns).values(rows));

    const all = await api<Page<JobRun>>("GET", `/v1/admin/job-runs?job=${job}`, {
      token: admin.accessToken,
    });
    expect(all.status).toBe(200);
    expect(all.body.items.map((r) => r.id)).toEqual(rows.map((r) => r.id).reverse());
    const failed = await api<Page<JobRun>>("GET", `/v1/admin/job-runs?job=${job}&outcome=failed`, {
      token: admin.accessToken,
    });
    expect(failed.body.items).toEqual([
      expect.objectContaining({ outcome: "failed", detail: { error: "boom" } }),
    ]);
    const since = encodeURIComponent(new Date(now - 3_600_000).toISOString());
    const recent = await api<Page<JobRun>>("GET", `/v1/admin/job-runs?job=${job}&since=${since}`, {
      token: admin.accessToken,
    });
    expect(recent.body.items).toHaveLength(2);
    const buyer = await registerUser();
    expect((await api("GET", "/v1/admin/job-runs", { token: buyer.accessToken })).status).toBe(403);
  });

  it("documents the operations routes in /openapi.json", async () => {
    const doc = await api<{ paths: Record<string, Record<string, unknown>> }>(
      "GET",
      "/openapi.json",
    );
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        "/v1/admin/dead-letters",
        "/v1/admin/dead-letters/{id}/replay",
        "/v1/admin/payment-issues",
        "/v1/admin/payment-issues/{id}/resolve",
        "/v1/admin/job-runs",
      ]),
    );
  });
});
