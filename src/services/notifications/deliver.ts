import { and, eq } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { outboundMessages } from "../../db/schema/mailbox.ts";
import { notifications } from "../../db/schema/notifications.ts";
import { uuidv7 } from "../../lib/ids.ts";
import type { Logger } from "../../lib/logger.ts";
import type { MailSender, OutgoingMessage } from "./mail.ts";
import type { NotificationMessage } from "./message.ts";

export interface DeliveryDeps {
  db: Database;
  logger: Logger;
  /** Email: Resend or the dev mailbox. */
  mail: MailSender;
  /** SMS: the dev mailbox until a provider is wired. */
  sms: MailSender;
}

/**
 * Sends one message at most once per (dedupeKey, channel). The ledger is read before and written
 * after the send: a crash in between resends on redelivery, which the provider's idempotency key
 * absorbs; a failed send writes nothing and throws, so the queue retries with backoff.
 */
export async function sendOnce(
  db: Database,
  sender: MailSender,
  msg: OutgoingMessage,
): Promise<"sent" | "duplicate"> {
  const [seen] = await db
    .select({ id: outboundMessages.id })
    .from(outboundMessages)
    .where(
      and(eq(outboundMessages.dedupeKey, msg.dedupeKey), eq(outboundMessages.channel, msg.channel)),
    )
    .limit(1);
  if (seen) return "duplicate";
  const { providerMessageId } = await sender.send(msg);
  await db
    .insert(outboundMessages)
    .values({
      id: uuidv7(),
      dedupeKey: msg.dedupeKey,
      channel: msg.channel,
      transport: sender.transport,
      recipient: msg.to,
      subject: msg.subject,
      body: sender.keepsBody ? msg.text : null,
      providerMessageId,
    })
    .onConflictDoNothing();
  return "sent";
}

/**
 * What the `notifications` consumer does with one message: the in-app row (when it names a
 * user), then the email and the SMS. Each step is idempotent by the dedupeKey, so a retry after
 * a partial failure finishes the job without doubling what already happened.
 */
export async function deliverNotification(
  deps: DeliveryDeps,
  msg: NotificationMessage,
): Promise<void> {
  if (msg.userId) {
    await deps.db
      .insert(notifications)
      .values({
        id: uuidv7(),
        userId: msg.userId,
        kind: msg.kind,
        title: msg.title,
        body: msg.body,
        data: msg.data ?? null,
        dedupeKey: msg.dedupeKey,
      })
      .onConflictDoNothing({ target: notifications.dedupeKey });
  }
  if (msg.email) {
    const outcome = await sendOnce(deps.db, deps.mail, {
      dedupeKey: msg.dedupeKey,
      channel: "email",
      to: msg.email.to,
      subject: msg.email.subject,
      text: msg.email.text,
    });
    deps.logger.info("email", {
      dedupeKey: msg.dedupeKey,
      transport: deps.mail.transport,
      outcome,
    });
  }
  if (msg.sms) {
    const outcome = await sendOnce(deps.db, deps.sms, {
      dedupeKey: msg.dedupeKey,
      channel: "sms",
      to: msg.sms.to,
      subject: msg.title,
      text: msg.sms.text,
    });
    deps.logger.info("sms", { dedupeKey: msg.dedupeKey, transport: deps.sms.transport, outcome });
  }
}
