import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { createRouter } from "../../http/app.ts";
import type { AppEnv } from "../../http/context.ts";
import { problem } from "../../http/problem.ts";
import { pageQuery } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import { listMailbox } from "../../services/notifications/mailbox.ts";
import { problems } from "../schemas.ts";

/** Environments where the /dev helpers answer; everywhere else they do not exist. */
export const DEV_ENVIRONMENTS: readonly string[] = ["development", "test"];

/**
 * The app is built once per isolate, before any env is known, so the helpers are mounted
 * always and this guard answers the same 404 problem as an unknown route in production.
 */
export const devOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!DEV_ENVIRONMENTS.includes(c.get("services").config.ENVIRONMENT)) {
    return problem(c, "NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`);
  }
  await next();
});

const MailboxEntry = z.object({
  id: z.uuid(),
  channel: z.enum(["email", "sms"]),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  createdAt: z.iso.datetime(),
});
const MailboxPage = z.object({ items: z.array(MailboxEntry), nextCursor: z.string().nullable() });

const mailbox = createRoute({
  method: "get",
  path: "/mailbox",
  tags: ["dev"],
  // Kept out of /openapi.json: a production reader should not see a route that is not there.
  hide: true,
  summary: "What the API would have emailed or texted, newest first (development and test only)",
  middleware: [devOnly],
  request: {
    query: pageQuery.extend({
      to: text()
        .trim()
        .min(1)
        .max(254)
        .transform((t) => t.toLowerCase())
        .optional(),
    }),
  },
  responses: {
    200: { description: "Mail", content: { "application/json": { schema: MailboxPage } } },
    ...problems(404, 422),
  },
});

/** `/dev`: local helpers; a 404 unless ENVIRONMENT is development or test. */
export const devRoutes = createRouter().openapi(mailbox, async (c) =>
  c.json(await listMailbox(c.get("services").db, c.req.valid("query")), 200),
);
