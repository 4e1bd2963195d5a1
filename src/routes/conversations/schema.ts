import { z } from "@hono/zod-openapi";

export const ConversationSchema = z
  .object({
    id: z.uuid(),
    buyerId: z.uuid(),
    shopId: z.uuid(),
    productId: z.uuid().nullable(),
    orderId: z.uuid().nullable(),
    lastMessageAt: z.iso.datetime(),
    createdAt: z.iso.datetime(),
    unreadCount: z.number().int().openapi({
      description: "Messages from the other side you have not read (0 for an admin).",
    }),
  })
  .openapi("Conversation");

export const MessageSchema = z
  .object({
    id: z.uuid(),
    conversationId: z.uuid(),
    senderId: z.uuid(),
    side: z.enum(["buyer", "shop"]),
    body: z.string(),
    createdAt: z.iso.datetime(),
  })
  .openapi("Message");

export const OpenedSchema = z
  .object({
    conversation: ConversationSchema,
    message: MessageSchema,
    created: z.boolean().openapi({ description: "false: the existing one was reused." }),
  })
  .openapi("OpenedConversation");

export const ConversationPage = z
  .object({ items: z.array(ConversationSchema), nextCursor: z.string().nullable() })
  .openapi("ConversationPage");

export const MessagePage = z
  .object({ items: z.array(MessageSchema), nextCursor: z.string().nullable() })
  .openapi("MessagePage");
