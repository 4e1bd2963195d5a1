import { logOnce } from "../lib/logger.ts";
import { deliverNotification } from "../services/notifications/deliver.ts";
import { createMailSender, devMailbox, type MailSender } from "../services/notifications/mail.ts";
import { notificationMessage } from "../services/notifications/message.ts";
import type { JobContext } from "./context.ts";

export {
  type NotificationMessage,
  notificationMessage,
} from "../services/notifications/message.ts";

/**
 * The `notifications` consumer: the in-app row, then email (Resend when RESEND_API_KEY is set,
 * the dev mailbox otherwise) and SMS (the dev mailbox: no provider is wired). A malformed
 * message or a failed send throws, so the queue retries with backoff and then dead-letters it.
 */
export async function handleNotification(
  ctx: JobContext,
  body: unknown,
  mail: MailSender = createMailSender(ctx.config),
): Promise<void> {
  const msg = notificationMessage.parse(body);
  if (mail.transport === "dev-mailbox" && ctx.config.ENVIRONMENT === "production") {
    logOnce(ctx.logger, "no-resend", "RESEND_API_KEY is not set: email goes to the dev mailbox");
  }
  await deliverNotification({ db: ctx.db, logger: ctx.logger, mail, sms: devMailbox }, msg);
}
