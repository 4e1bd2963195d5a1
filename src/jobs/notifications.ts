import { z } from "zod";
import { notifications } from "../db/schema/notifications.ts";
import { uuidv7 } from "../lib/ids.ts";
import type { JobContext } from "./context.ts";

export const notificationMessage = z.object({
  userId: z.uuid(),
  kind: z.string().min(1).max(64),
  title: z.string().min(1).max(200),
  body: z.string().max(5000),
  data: z.record(z.string(), z.unknown()).optional(),
  /** Same key, same notification: redeliveries write nothing twice. */
  dedupeKey: z.string().min(1).max(200),
});
export type NotificationMessage = z.infer<typeof notificationMessage>;

/** Writes the in-app notification. A malformed message is a bug upstream: it throws to retry/DLQ. */
export async function handleNotification(ctx: JobContext, body: unknown): Promise<void> {
  const msg = notificationMessage.parse(body);
  await ctx.db
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
