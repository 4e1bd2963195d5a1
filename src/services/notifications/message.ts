import { z } from "zod";

/** E.164: a plus, then up to 15 digits, no leading zero. */
export const E164 = /^\+[1-9]\d{6,14}$/;

export const emailPart = z.object({
  to: z.email(),
  subject: z.string().min(1).max(200),
  text: z.string().min(1).max(20_000),
});

/** No SMS provider is wired yet: the consumer puts these in the dev mailbox. */
export const smsPart = z.object({
  to: z.string().regex(E164, "must be E.164"),
  text: z.string().min(1).max(1_000),
});

/**
 * A message on the `notifications` queue. `userId` makes an in-app row; `email` and `sms` are
 * sent to an address that need not belong to a user (a shop's contact email, for an OTP).
 */
export const notificationMessage = z
  .object({
    userId: z.uuid().optional(),
    kind: z.string().min(1).max(64),
    title: z.string().min(1).max(200),
    body: z.string().max(5000),
    data: z.record(z.string(), z.unknown()).optional(),
    /** Same key, same notification: redeliveries write and send nothing twice. */
    dedupeKey: z.string().min(1).max(200),
    email: emailPart.optional(),
    sms: smsPart.optional(),
  })
  .refine((m) => m.userId !== undefined || m.email !== undefined || m.sms !== undefined, {
    message: "a notification needs a userId, an email or an sms part",
    path: ["userId"],
  });

export type NotificationMessage = z.infer<typeof notificationMessage>;
export type NotificationInput = z.input<typeof notificationMessage>;
