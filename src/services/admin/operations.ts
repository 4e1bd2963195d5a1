import { and, desc, eq, gte, isNotNull, isNull, lt, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { deadLetters, jobRuns } from "../../db/schema/jobs.ts";
import { paymentIssues } from "../../db/schema/orders.ts";
import { parseOr422 } from "../../lib/input.ts";
import { type Page, toPage } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { afterId } from "../cursor.ts";
import { Conflict, NotFound } from "../errors.ts";

/** What the dead-letter consumer writes in place of a secret (an OTP email's text). */
export const REDACTED = "[redacted]";

/** `open`: nobody has acted on it yet; `resolved`: replayed (a dead letter) or settled (an issue). */
export type OperationStatus = "open" | "resolved";

interface ListQuery {
  limit: number;
  cursor?: string | undefined;
  /** Only rows created (received, started) at or after this instant. */
  since?: Date | undefined;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * Every list here is newest first by its uuidv7 id, the id being the whole keyset: the rows
 * older than the cursor's, read `limit + 1` at a time (the extra row says whether more remain).
 */
function olderThanCursor(id: AnyPgColumn, cursor: string | undefined): SQL | undefined {
  const after = afterId(cursor);
  return after ? lt(id, after) : undefined;
}

function pageOf<R extends { id: string }, V>(rows: R[], limit: number, view: (r: R) => V): Page<V> {
  const page = toPage(rows, limit, (r) => ({ id: r.id }));
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

/** `open` or `resolved` by the row's `resolved_at`; either when no status is asked for. */
function withStatus(resolvedAt: AnyPgColumn, status: OperationStatus | undefined): SQL | undefined {
  if (status === "open") return isNull(resolvedAt);
  return status === "resolved" ? isNotNull(resolvedAt) : undefined;
}

// ---- Dead letters ------------------------------------------------------------------------------

type DeadLetterRow = typeof deadLetters.$inferSelect;

export interface DeadLetterView {
  id: string;
  queue: string;
  messageId: string;
  body: unknown;
  attempts: number;
  receivedAt: string;
  status: OperationStatus;
  /** When it was replayed; the audit row (`dead_letter.replayed`) says by whom. */
  resolvedAt: string | null;
  /** False when its body lost a secret to redaction: replaying it would send `[redacted]`. */
  replayable: boolean;
}

function holdsRedacted(value: unknown): boolean {
  if (value === REDACTED) return true;
  if (Array.isArray(value)) return value.some(holdsRedacted);
  if (value && typeof value === "object") return Object.values(value).some(holdsRedacted);
  return false;
}

function deadLetterView(r: DeadLetterRow): DeadLetterView {
  return {
    id: r.id,
    queue: r.queue,
    messageId: r.messageId,
    body: r.body ?? null,
    attempts: r.attempts,
    receivedAt: r.receivedAt.toISOString(),
    status: r.resolvedAt ? "resolved" : "open",
    resolvedAt: iso(r.resolvedAt),
    replayable: r.resolvedAt === null && !holdsRedacted(r.body),
  };
}

/** Messages the queues gave up on, newest first. */
export async function listDeadLetters(
  ctx: ServiceContext,
  q: ListQuery & { status?: OperationStatus | undefined; queue?: string | undefined },
): Promise<Page<DeadLetterView>> {
  const rows = await ctx.db
    .select()
    .from(deadLetters)
    .where(
      and(
        withStatus(deadLetters.resolvedAt, q.status),
        q.queue ? eq(deadLetters.queue, q.queue) : undefined,
        q.since ? gte(deadLetters.receivedAt, q.since) : undefined,
        olderThanCursor(deadLetters.id, q.cursor),
      ),
    )
    .orderBy(desc(deadLetters.id))
    .limit(q.limit + 1);
  return pageOf(rows, q.limit, deadLetterView);
}

/** Where a replay goes: the producer of each queue a dead letter can come from. */
export type ReplayTargets = Readonly<Record<string, { send(body: unknown): Promise<unknown> }>>;

/**
 * Sends a dead letter's body to its queue again, once: the row is locked, marked resolved and
 * audited in one transaction, and the send is the transaction's last step, so a send that fails
 * rolls the mark back (the letter stays open to replay) and a second replay, even a concurrent
 * one, is a 409. A body that lost a secret to redaction is refused (409): it would deliver
 * `[redacted]`. The consumers apply a message idempotently (Stripe events by event id,
 * notifications by dedupe key), so a replay of something that got through after all is harmless.
 */
export async function replayDeadLetter(
  ctx: ServiceContext,
  targets: ReplayTargets,
  id: string,
): Promise<DeadLetterView> {
  const row = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [before] = await tx
      .select()
      .from(deadLetters)
      .where(eq(deadLetters.id, id))
      .for("update");
    if (!before) throw new NotFound("dead letter", id);
    if (before.resolvedAt) {
      throw new Conflict("This dead letter was already replayed.", {
        resolvedAt: before.resolvedAt.toISOString(),
      });
    }
    if (holdsRedacted(before.body)) {
      throw new Conflict(
        "This message lost a secret to redaction when it was dead-lettered; replaying it would " +
          "send the placeholder. Have its sender make it again.",
        { reason: "redacted" },
      );
    }
    const target = targets[before.queue];
    if (!target) {
      throw new Conflict(`Nothing can replay messages of the queue ${before.queue}.`, {
        queue: before.queue,
      });
    }
    const [after] = await tx
      .update(deadLetters)
      .set({ resolvedAt: new Date() })
      .where(eq(deadLetters.id, id))
      .returning();
    if (!after) throw new NotFound("dead letter", id);
    await audit.record({
      action: "dead_letter.replayed",
      entityType: "dead_letter",
      entityId: id,
      oldValue: { resolvedAt: null },
      newValue: {
        resolvedAt: after.resolvedAt?.toISOString(),
        queue: after.queue,
        messageId: after.messageId,
      },
    });
    await target.send(before.body);
    return after;
  });
  ctx.logger.info("dead letter replayed", { deadLetterId: id, queue: row.queue });
  return deadLetterView(row);
}

// ---- Payment issues ----------------------------------------------------------------------------

type PaymentIssueRow = typeof paymentIssues.$inferSelect;

export interface PaymentIssueView {
  id: string;
  kind: string;
  checkoutId: string | null;
  orderId: string | null;
  paymentIntentId: string | null;
  stripeEventId: string | null;
  detail: unknown;
  createdAt: string;
  status: OperationStatus;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
}

function issueView(r: PaymentIssueRow): PaymentIssueView {
  return {
    id: r.id,
    kind: r.kind,
    checkoutId: r.checkoutId,
    orderId: r.orderId,
    paymentIntentId: r.paymentIntentId,
    stripeEventId: r.stripeEventId,
    detail: r.detail ?? null,
    createdAt: r.createdAt.toISOString(),
    status: r.resolvedAt ? "resolved" : "open",
    resolvedAt: iso(r.resolvedAt),
    resolvedBy: r.resolvedBy,
    resolutionNote: r.resolutionNote,
  };
}

/** Money that disagrees with the records, newest first. */
export async function listPaymentIssues(
  ctx: ServiceContext,
  q: ListQuery & {
    status?: OperationStatus | undefined;
    kind?: string | undefined;
    checkoutId?: string | undefined;
  },
): Promise<Page<PaymentIssueView>> {
  const rows = await ctx.db
    .select()
    .from(paymentIssues)
    .where(
      and(
        withStatus(paymentIssues.resolvedAt, q.status),
        q.kind ? eq(paymentIssues.kind, q.kind) : undefined,
        q.checkoutId ? eq(paymentIssues.checkoutId, q.checkoutId) : undefined,
        q.since ? gte(paymentIssues.createdAt, q.since) : undefined,
        olderThanCursor(paymentIssues.id, q.cursor),
      ),
    )
    .orderBy(desc(paymentIssues.id))
    .limit(q.limit + 1);
  return pageOf(rows, q.limit, issueView);
}

export const resolvePaymentIssueInput = z.object({
  note: text().trim().min(3).max(2000),
});

/**
 * Marks a payment issue resolved with the admin's note (what was done on Stripe or with the
 * buyer), once: a second resolve is a 409. The money itself is not touched here, and flagged
 * orders stay flagged: the flag records that money and records once disagreed.
 */
export async function resolvePaymentIssue(
  ctx: ServiceContext,
  id: string,
  raw: z.input<typeof resolvePaymentIssueInput>,
): Promise<PaymentIssueView> {
  const input = parseOr422(resolvePaymentIssueInput, raw);
  const adminId = ctx.actor.id;
  if (!adminId) throw new Error("resolving a payment issue needs a signed-in admin");
  const row = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [before] = await tx
      .select()
      .from(paymentIssues)
      .where(eq(paymentIssues.id, id))
      .for("update");
    if (!before) throw new NotFound("payment issue", id);
    if (before.resolvedAt) {
      throw new Conflict("This payment issue is already resolved.", {
        resolvedAt: before.resolvedAt.toISOString(),
      });
    }
    const [after] = await tx
      .update(paymentIssues)
      .set({ resolvedAt: new Date(), resolvedBy: adminId, resolutionNote: input.note })
      .where(eq(paymentIssues.id, id))
      .returning();
    if (!after) throw new NotFound("payment issue", id);
    await audit.record({
      action: "payment_issue.resolved",
      entityType: "payment_issue",
      entityId: id,
      oldValue: { resolvedAt: null },
      newValue: { resolvedAt: after.resolvedAt?.toISOString(), note: input.note, kind: after.kind },
    });
    return after;
  });
  return issueView(row);
}

// ---- Job runs ----------------------------------------------------------------------------------

export const JOB_OUTCOMES = ["running", "ok", "failed"] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

export interface JobRunView {
  id: string;
  job: string;
  cron: string | null;
  startedAt: string;
  finishedAt: string | null;
  outcome: string;
  detail: unknown;
}

/** Cron runs, newest first: what ran, when, how it ended and what it reported. */
export async function listJobRuns(
  ctx: ServiceContext,
  q: ListQuery & { job?: string | undefined; outcome?: JobOutcome | undefined },
): Promise<Page<JobRunView>> {
  const rows = await ctx.db
    .select()
    .from(jobRuns)
    .where(
      and(
        q.job ? eq(jobRuns.job, q.job) : undefined,
        q.outcome ? eq(jobRuns.outcome, q.outcome) : undefined,
        q.since ? gte(jobRuns.startedAt, q.since) : undefined,
        olderThanCursor(jobRuns.id, q.cursor),
      ),
    )
    .orderBy(desc(jobRuns.id))
    .limit(q.limit + 1);
  return pageOf(rows, q.limit, (r) => ({
    id: r.id,
    job: r.job,
    cron: r.cron,
    startedAt: r.startedAt.toISOString(),
    finishedAt: iso(r.finishedAt),
    outcome: r.outcome,
    detail: r.detail ?? null,
  }));
}
