import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { createRouter } from "../../http/app.ts";
import type { AppEnv } from "../../http/context.ts";
import { requireAuth, requireAuthWhileBlocked } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { enforceLimit } from "../../lib/rate-limit.ts";
import {
  getConversation,
  listConversations,
  listMessages,
  markConversationRead,
  messageInput,
  openConversation,
  openConversationInput,
  postMessage,
} from "../../services/conversations/conversations.ts";
import { named } from "../auctions/schema.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";
import {
  ConversationPage,
  ConversationSchema,
  MessagePage,
  MessageSchema,
  OpenedSchema,
} from "./schema.ts";

const base = { tags: ["conversations"], security: bearer, middleware: [requireAuth] };

/** Every message written counts against its sender's `message` limit (LIMITS in rate-limit.ts). */
const messageLimit = createMiddleware<AppEnv>(async (c, next) => {
  await enforceLimit(c.get("services").redis, "message", c.get("user").id);
  await next();
});

const open = createRoute({
  ...base,
  middleware: [requireAuth, messageLimit] as const,
  method: "post",
  path: "/",
  summary: "Write to a shop, optionally about a product or your order (one per subject)",
  description: "Its message counts against the sender's limit of 20 messages a minute (429).",
  request: { body: json(named(openConversationInput, "OpenConversationInput")) },
  responses: {
    201: ok("Opened", OpenedSchema),
    200: ok("The existing conversation, with the message added", OpenedSchema),
    ...problems(401, 404, 409, 422, 429),
  },
});

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "Your conversations as a buyer, or your shop's with `shopId`; with unread counts",
  request: {
    query: pageQuery.extend({
      shopId: z.uuid().optional().openapi({ description: "A shop whose team you are on." }),
    }),
  },
  responses: { 200: ok("A page of conversations", ConversationPage), ...problems(401, 404, 422) },
});

const get = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  summary: "One conversation (its buyer, the shop's team, admins)",
  request: { params: IdParam },
  responses: { 200: ok("The conversation", ConversationSchema), ...problems(401, 404, 422) },
});

const messages = createRoute({
  ...base,
  method: "get",
  path: "/{id}/messages",
  summary: "A conversation's messages, newest first",
  request: { params: IdParam, query: pageQuery },
  responses: { 200: ok("A page of messages", MessagePage), ...problems(401, 404, 422) },
});

const post = createRoute({
  ...base,
  // A blocked account may still answer its conversations (it may not open new ones).
  middleware: [requireAuthWhileBlocked, messageLimit] as const,
  method: "post",
  path: "/{id}/messages",
  summary: "Write in a conversation; the other side is notified",
  description: "Messages are limited per user: 20 a minute, over all conversations (429).",
  request: { params: IdParam, body: json(named(messageInput, "MessageInput")) },
  responses: { 201: ok("Sent", MessageSchema), ...problems(401, 403, 404, 422, 429) },
});

const read = createRoute({
  ...base,
  middleware: [requireAuthWhileBlocked],
  method: "post",
  path: "/{id}/read",
  summary: "Mark every message read for your side",
  request: { params: IdParam },
  responses: { 200: ok("Read", ConversationSchema), ...problems(401, 404, 422) },
});

/** `/v1/conversations`: buyers and shops talking; only the two parties and admins can read. */
export const conversationRoutes = createRouter()
  .openapi(open, async (c) => {
    const result = await openConversation(serviceContext(c), c.req.valid("json"));
    return result.created ? c.json(result, 201) : c.json(result, 200);
  })
  .openapi(list, async (c) =>
    c.json(await listConversations(serviceContext(c), c.req.valid("query")), 200),
  )
  .openapi(get, async (c) =>
    c.json(await getConversation(serviceContext(c), c.req.valid("param").id), 200),
  )
  .openapi(messages, async (c) =>
    c.json(
      await listMessages(serviceContext(c), c.req.valid("param").id, c.req.valid("query")),
      200,
    ),
  )
  .openapi(post, async (c) =>
    c.json(await postMessage(serviceContext(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  .openapi(read, async (c) =>
    c.json(await markConversationRead(serviceContext(c), c.req.valid("param").id), 200),
  );
