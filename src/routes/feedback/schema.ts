import { z } from "@hono/zod-openapi";

export const FeedbackSchema = z
  .object({
    id: z.uuid(),
    orderId: z.uuid(),
    shopId: z.uuid(),
    buyerId: z.uuid(),
    rating: z.number().int().min(1).max(5),
    comment: z.string(),
    reply: z.string().nullable(),
    repliedAt: z.iso.datetime().nullable(),
    editableUntil: z.iso.datetime().openapi({ description: "7 days after it was left." }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Feedback");

export const PublicFeedbackSchema = z
  .object({
    id: z.uuid(),
    reviewer: z.string().openapi({
      description:
        "The buyer's display name, masked: first letters and a last initial. A deleted " +
        "account shows as `A former buyer`. Nothing here leads to the account or the order.",
      example: "Am… K.",
    }),
    rating: z.number().int().min(1).max(5),
    comment: z.string(),
    reply: z.string().nullable(),
    repliedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("PublicFeedback");

export const FeedbackSummarySchema = z
  .object({
    count: z.number().int(),
    average: z.number().nullable().openapi({ example: 4.25 }),
    distribution: z
      .object({
        1: z.number().int(),
        2: z.number().int(),
        3: z.number().int(),
        4: z.number().int(),
        5: z.number().int(),
      })
      .openapi({ description: "How many ratings of each value, over all the shop's feedback." }),
  })
  .openapi("FeedbackSummary");

export const ShopFeedbackPage = z
  .object({
    items: z.array(PublicFeedbackSchema),
    nextCursor: z.string().nullable(),
    summary: FeedbackSummarySchema,
  })
  .openapi("ShopFeedbackPage");

export const PlatformFeedbackSchema = z
  .object({
    id: z.uuid(),
    rating: z.number().int(),
    comment: z.string(),
    category: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi("PlatformFeedback");
