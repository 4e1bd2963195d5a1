import { index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** One row per cron job run: what ran, when, and how it ended. Operators read it; tests too. */
export const jobRuns = pgTable(
  "job_runs",
  {
    id: uuid("id").primaryKey(),
    job: text("job").notNull(),
    cron: text("cron"),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    outcome: text("outcome").notNull(),
    detail: jsonb("detail"),
  },
  (t) => [index("job_runs_job_idx").on(t.job, t.startedAt)],
);

/** Messages a queue gave up on (after the last retry): kept for an admin to read and replay. */
export const deadLetters = pgTable("dead_letters", {
  id: uuid("id").primaryKey(),
  queue: text("queue").notNull(),
  messageId: text("message_id").notNull().unique(),
  body: jsonb("body"),
  attempts: integer("attempts").notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  resolvedAt: timestamp("resolved_at", { withTimezone: true }),
});
