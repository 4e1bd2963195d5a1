import { errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import { type NotificationInput, notificationMessage } from "./message.ts";

/** The producer side of the `notifications` queue: env.NOTIFICATIONS, or a test double. */
export interface NotificationQueue {
  send(message: unknown): Promise<unknown>;
}

/**
 * Validates a notification and puts it on the queue. A malformed message throws here, at the
 * producer, rather than poisoning the queue. Call it after the change it reports has committed.
 */
export async function notify(queue: NotificationQueue, message: NotificationInput): Promise<void> {
  await queue.send(notificationMessage.parse(message));
}

/**
 * For notices that follow a committed change (an approval, a new team member): the change
 * stands even if the queue is briefly unavailable, so a failure is logged, not thrown.
 */
export async function notifyAfterCommit(
  queue: NotificationQueue,
  logger: Logger,
  message: NotificationInput,
): Promise<void> {
  try {
    await notify(queue, message);
  } catch (err) {
    logger.error("could not enqueue a notification", {
      dedupeKey: message.dedupeKey,
      error: errorMessage(err),
    });
  }
}
