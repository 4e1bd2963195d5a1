import { deadLetters } from "../db/schema/jobs.ts";
import type { Env } from "../env.ts";
import { injectConsumerCrash } from "../lib/dev-faults.ts";
import { errorMessage } from "../lib/errors.ts";
import { uuidv7 } from "../lib/ids.ts";
import { REDACTED } from "../services/admin/operations.ts";
import { type JobContext, openJobContext } from "./context.ts";
import { handleImport } from "./imports.ts";
import { handleIntelligence } from "./intelligence.ts";
import { handleNotification } from "./notifications.ts";
import { handleStripeEvent } from "./stripe-events.ts";

export type MessageHandler = (ctx: JobContext, body: unknown) => Promise<void>;

/** Exponential backoff for retries: 2, 4, 8 … seconds, capped at 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(1, attempts));
}

const SECRET_FIELDS = new Set(["text", "html", "code", "password", "token"]);

/**
 * Dead letters are kept for admins to read, so message bodies lose anything secret first (an OTP
 * email's text carries the code). Everything else stays, to diagnose and replay.
 */
export function redactForDeadLetter(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactForDeadLetter);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_FIELDS.has(k) && typeof v === "string" ? REDACTED : redactForDeadLetter(v),
      ]),
    );
  }
  return value;
}

async function recordDeadLetter(
  ctx: JobContext,
  queue: string,
  msg: Message<unknown>,
): Promise<void> {
  await ctx.db
    .insert(deadLetters)
    .values({
      id: uuidv7(),
      queue,
      messageId: msg.id,
      body: redactForDeadLetter(msg.body ?? null),
      attempts: msg.attempts,
    })
    .onConflictDoNothing({ target: deadLetters.messageId });
  ctx.logger.error("message dead-lettered", { queue, messageId: msg.id });
}

const HANDLERS: Record<string, MessageHandler> = {
  "stripe-events": handleStripeEvent,
  notifications: handleNotification,
  imports: handleImport,
  intelligence: handleIntelligence,
};

/**
 * Dispatches a batch by queue name. Each message is acked on success and retried with backoff
 * on failure; after the last retry Cloudflare moves it to the queue's DLQ, whose consumer writes
 * a `dead_letters` row an admin can see.
 */
export async function runQueueBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const { ctx, close } = openJobContext(env, `queue:${batch.queue}`);
  try {
    if (batch.queue.endsWith("-dlq")) {
      const source = batch.queue.slice(0, -"-dlq".length);
      for (const msg of batch.messages) {
        try {
          await recordDeadLetter(ctx, source, msg);
          msg.ack();
        } catch {
          msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
        }
      }
      return;
    }
    const handler = HANDLERS[batch.queue];
    if (!handler) {
      ctx.logger.error("no consumer for queue", { queue: batch.queue });
      batch.retryAll();
      return;
    }
    for (const msg of batch.messages) {
      try {
        await handler(ctx, msg.body);
        injectConsumerCrash(env, batch.queue, msg);
        msg.ack();
      } catch (err) {
        ctx.logger.warn("message failed; will retry", {
          queue: batch.queue,
          messageId: msg.id,
          attempts: msg.attempts,
          error: errorMessage(err),
        });
        msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
      }
    }
  } finally {
    await close();
  }
}
