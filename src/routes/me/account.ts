import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import type { RequestServices } from "../../http/context.ts";
import { requireAuth, requireAuthWhileBlocked } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { enforceLimit, type LimitName } from "../../lib/rate-limit.ts";
import {
  confirmEmailChange,
  confirmEmailVerification,
  emailChangeInput,
  emailCodeInput,
  requestEmailChange,
  requestEmailVerification,
} from "../../services/users/email.ts";
import { becomeSeller } from "../../services/users/seller.ts";
import { bearer, json, ok, problems, SessionSchema, UserSchema } from "../schemas.ts";

const SentCode = z
  .object({
    sentTo: z.string().openapi({ example: "a***@example.com" }),
    expiresAt: z.iso.datetime(),
  })
  .openapi("SentCode");
const SellerResult = z.object({ user: UserSchema, session: SessionSchema });
const CodeBody = emailCodeInput.openapi("EmailCodeInput");
// Managing one's own address is allowed to a blocked account; starting to sell is not.
const base = { tags: ["me"], security: bearer, middleware: [requireAuthWhileBlocked] };

const seller = createRoute({
  tags: ["me"],
  security: bearer,
  middleware: [requireAuth],
  method: "post",
  path: "/seller",
  summary: "Become a seller; answers a fresh session whose token carries the role",
  description:
    "A buyer's role becomes `seller` (audited `user.role_changed`); a seller can still buy. " +
    "Access tokens issued before keep saying `buyer` until they expire; use the session " +
    "returned here, or refresh (a refresh reads the role again). Already a seller: a fresh " +
    "session, nothing changed. An admin: 409. A blocked account: 403.",
  responses: { 200: ok("Now a seller", SellerResult), ...problems(401, 403, 409) },
});
const verifyRequest = createRoute({
  ...base,
  method: "post",
  path: "/email-verification",
  summary: "Mail a code proving your current email address",
  responses: { 202: ok("Code sent", SentCode), ...problems(401, 409, 429, 503) },
});
const verifyConfirm = createRoute({
  ...base,
  method: "post",
  path: "/email-verification/confirm",
  summary: "Verify your email address with the mailed code",
  description:
    "Single use, 15 minutes, five tries (422 says how many are left); 409 without a live code.",
  request: { body: json(CodeBody) },
  responses: { 200: ok("Verified", UserSchema), ...problems(401, 409, 422, 429, 503) },
});
const changeRequest = createRoute({
  ...base,
  method: "post",
  path: "/email-change",
  summary: "Start changing your email: a code goes to the new address",
  description:
    "Needs your password. Nothing changes until the code mailed to the new address is " +
    "confirmed. An address another account holds gets the same answer and no code.",
  request: { body: json(emailChangeInput.openapi("EmailChangeInput")) },
  responses: { 202: ok("Code sent", SentCode), ...problems(401, 422, 429, 503) },
});
const changeConfirm = createRoute({
  ...base,
  method: "post",
  path: "/email-change/confirm",
  summary: "Make the new address your email with the code mailed to it (it is then verified)",
  request: { body: json(CodeBody) },
  responses: { 200: ok("Changed", UserSchema), ...problems(401, 409, 422, 429, 503) },
});

/** Counts one request per account and per client address. */
async function limit({ redis, clientIp }: RequestServices, name: LimitName, userId: string) {
  await enforceLimit(redis, name, `user:${userId}`);
  await enforceLimit(redis, name, `ip:${clientIp}`);
}

/** `/v1/me`: becoming a seller, proving and changing the email address. */
export const accountRoutes = createRouter()
  .openapi(seller, async (c) => c.json(await becomeSeller(serviceContext(c), c.var.user.id), 200))
  .openapi(verifyRequest, async (c) => {
    await limit(c.get("services"), "account.code.issue", c.var.user.id);
    return c.json(await requestEmailVerification(serviceContext(c), c.var.user.id), 202);
  })
  .openapi(verifyConfirm, async (c) => {
    await limit(c.get("services"), "account.code.verify", c.var.user.id);
    const body = c.req.valid("json");
    return c.json(await confirmEmailVerification(serviceContext(c), c.var.user.id, body), 200);
  })
  .openapi(changeRequest, async (c) => {
    await limit(c.get("services"), "account.code.issue", c.var.user.id);
    const body = c.req.valid("json");
    return c.json(await requestEmailChange(serviceContext(c), c.var.user.id, body), 202);
  })
  .openapi(changeConfirm, async (c) => {
    await limit(c.get("services"), "account.code.verify", c.var.user.id);
    const body = c.req.valid("json");
    return c.json(await confirmEmailChange(serviceContext(c), c.var.user.id, body), 200);
  });
