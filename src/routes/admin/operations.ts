import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { queueProducers } from "../../http/queues.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import {
  JOB_OUTCOMES,
  listDeadLetters,
  listJobRuns,
  listPaymentIssues,
  replayDeadLetter,
  resolvePaymentIssue,
  resolvePaymentIssueInput,
} from "../../services/admin/operations.ts";
import { named } from "../auctions/schema.ts";
import { IdParam, json, ok, problems } from "../schemas.ts";
import { adminOnly } from "./base.ts";

const StatusSchema = z.enum(["open", "resolved"]).openapi("OperationStatus", {
  description: "`open`: nobody has acted on it; `resolved`: replayed, or resolved with a note.",
});

const since = z.iso
  .datetime({ offset: true })
  .optional()
  .openapi({ description: "Only rows from this instant on (inclusive)." });

const page = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

const DeadLetterSchema = z
  .object({
    id: z.uuid(),
    queue: z.string().openapi({ example: "stripe-events" }),
    messageId: z.string(),
    body: z.unknown().openapi({ description: "The message, secrets replaced by `[redacted]`." }),
    attempts: z.number().int(),
    receivedAt: z.iso.datetime(),
    status: StatusSchema,
    resolvedAt: z.iso.datetime().nullable().openapi({ description: "When it was replayed." }),
    replayable: z.boolean().openapi({
      description: "False once replayed, or when redaction took a secret its body needs.",
    }),
  })
  .openapi("DeadLetter");

const PaymentIssueSchema = z
  .object({
    id: z.uuid(),
    kind: z.string().openapi({ example: "amount_mismatch" }),
    checkoutId: z.uuid().nullable(),
    orderId: z.uuid().nullable(),
    paymentIntentId: z.string().nullable(),
    stripeEventId: z.string().nullable(),
    detail: z.unknown(),
    createdAt: z.iso.datetime(),
    status: StatusSchema,
    resolvedAt: z.iso.datetime().nullable(),
    resolvedBy: z.uuid().nullable().openapi({ description: "The admin who resolved it." }),
    resolutionNote: z.string().nullable(),
  })
  .openapi("PaymentIssue");

const JobRunSchema = z
  .object({
    id: z.uuid(),
    job: z.string().openapi({ example: "stripe-reconciliation" }),
    cron: z.string().nullable().openapi({ example: "*/15 * * * *" }),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    outcome: z.string().openapi({ description: "`running`, `ok` or `failed`.", example: "ok" }),
    detail: z.unknown().openapi({ description: "What the job reported, or its error." }),
  })
  .openapi("JobRun");

const deadLetterList = createRoute({
  ...adminOnly,
  method: "get",
  path: "/dead-letters",
  summary: "Queue messages given up on after their last retry, newest first",
  request: {
    query: pageQuery.extend({
      status: StatusSchema.optional(),
      queue: z.enum(["stripe-events", "notifications"]).optional(),
      since,
    }),
  },
  responses: {
    200: ok("A page of dead letters", page(DeadLetterSchema, "DeadLetterPage")),
    ...problems(401, 403, 422),
  },
});

const deadLetterReplay = createRoute({
  ...adminOnly,
  method: "post",
  path: "/dead-letters/{id}/replay",
  summary: "Send a dead letter to its queue again, once; one audit row",
  description:
    "The consumers apply a message idempotently, so a replay of something that got through " +
    "after all changes nothing. Already replayed, or its body lost a secret to redaction " +
    "(an OTP email), 409.",
  request: { params: IdParam },
  responses: { 200: ok("Replayed", DeadLetterSchema), ...problems(401, 403, 404, 409, 422) },
});

const issueList = createRoute({
  ...adminOnly,
  method: "get",
  path: "/payment-issues",
  summary: "Money that disagrees with the records (mismatch, dispute, late success…), newest first",
  request: {
    query: pageQuery.extend({
      status: StatusSchema.optional(),
      kind: text().trim().min(1).max(64).optional().openapi({ example: "amount_mismatch" }),
      checkoutId: z.uuid().optional(),
      since,
    }),
  },
  responses: {
    200: ok("A page of payment issues", page(PaymentIssueSchema, "PaymentIssuePage")),
    ...problems(401, 403, 422),
  },
});

const issueResolve = createRoute({
  ...adminOnly,
  method: "post",
  path: "/payment-issues/{id}/resolve",
  summary: "Resolve a payment issue with a note; one audit row",
  description:
    "Records what was done (on Stripe, with the buyer or the shop); it moves no money and " +
    "leaves flagged orders flagged. Already resolved, 409.",
  request: {
    params: IdParam,
    body: json(named(resolvePaymentIssueInput, "ResolvePaymentIssueInput")),
  },
  responses: { 200: ok("Resolved", PaymentIssueSchema), ...problems(401, 403, 404, 409, 422) },
});

const jobRunList = createRoute({
  ...adminOnly,
  method: "get",
  path: "/job-runs",
  summary: "Cron job runs, newest first: what ran, when, how it ended",
  request: {
    query: pageQuery.extend({
      job: text().trim().min(1).max(64).optional().openapi({ example: "payment-deadlines" }),
      outcome: z.enum(JOB_OUTCOMES).optional(),
      since,
    }),
  },
  responses: {
    200: ok("A page of job runs", page(JobRunSchema, "JobRunPage")),
    ...problems(401, 403, 422),
  },
});

const at = (s: string | undefined) => (s ? new Date(s) : undefined);

/** `/v1/admin/dead-letters`, `/payment-issues`, `/job-runs`: what the background did and dropped. */
export const adminOperationRoutes = createRouter()
  .openapi(deadLetterList, async (c) => {
    const q = c.req.valid("query");
    return c.json(await listDeadLetters(serviceContext(c), { ...q, since: at(q.since) }), 200);
  })
  .openapi(deadLetterReplay, async (c) => {
    const targets = queueProducers(c.env);
    return c.json(await replayDeadLetter(serviceContext(c), targets, c.req.valid("param").id), 200);
  })
  .openapi(issueList, async (c) => {
    const q = c.req.valid("query");
    return c.json(await listPaymentIssues(serviceContext(c), { ...q, since: at(q.since) }), 200);
  })
  .openapi(issueResolve, async (c) =>
    c.json(
      await resolvePaymentIssue(serviceContext(c), c.req.valid("param").id, c.req.valid("json")),
      200,
    ),
  )
  .openapi(jobRunList, async (c) => {
    const q = c.req.valid("query");
    return c.json(await listJobRuns(serviceContext(c), { ...q, since: at(q.since) }), 200);
  });
