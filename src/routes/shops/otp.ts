import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { enforceLimit } from "../../lib/rate-limit.ts";
import {
  issueOtpInput,
  issueShopOtp,
  verifyOtpInput,
  verifyShopOtp,
} from "../../services/shops/otp.ts";
import { bearer, IdParam, json, ok, problems } from "../schemas.ts";
import { bodyOf, ShopManagedSchema } from "./schema.ts";

const IssuedOtp = z
  .object({
    purpose: z.enum(["email", "phone"]),
    sentTo: z.string().openapi({ example: "s***@example.com" }),
    expiresAt: z.iso.datetime(),
  })
  .openapi("IssuedOtp");

const base = { tags: ["shops"], security: bearer, middleware: [requireAuth] };

const issue = createRoute({
  ...base,
  method: "post",
  path: "/{id}/otp",
  summary: "Send a 6-digit code to the shop's contact email or phone (owner)",
  description:
    "The code expires after 10 minutes; issuing a new one voids the previous one. It is sent " +
    "through the notifications queue (email: Resend or the dev mailbox; phone: the dev mailbox, " +
    "no SMS provider is wired). Rate limited per IP and per shop.",
  request: { params: IdParam, body: json(bodyOf(issueOtpInput, "IssueOtpInput")) },
  responses: {
    202: ok("The code is on its way", IssuedOtp),
    ...problems(401, 403, 404, 409, 422, 429, 503),
  },
});

const verify = createRoute({
  ...base,
  method: "post",
  path: "/{id}/otp/verify",
  summary: "Prove the contact email or phone with the code (owner)",
  description:
    "A wrong code answers 422 naming `code`; the fifth wrong try voids it. An expired, void or " +
    "used code answers 409: request a new one.",
  request: { params: IdParam, body: json(bodyOf(verifyOtpInput, "VerifyOtpInput")) },
  responses: {
    200: ok("Verified", ShopManagedSchema),
    ...problems(401, 403, 404, 409, 422, 429, 503),
  },
});

/** `POST /v1/shops/{id}/otp` and `/otp/verify`. */
export const otpRoutes = createRouter()
  .openapi(issue, async (c) => {
    const { redis, clientIp } = c.get("services");
    await enforceLimit(redis, "otp.issue", `ip:${clientIp}`);
    const { id } = c.req.valid("param");
    return c.json(
      await issueShopOtp(serviceContext(c), c.var.user.id, id, c.req.valid("json")),
      202,
    );
  })
  .openapi(verify, async (c) => {
    const { redis, clientIp } = c.get("services");
    await enforceLimit(redis, "otp.verify", `ip:${clientIp}`);
    const { id } = c.req.valid("param");
    return c.json(
      await verifyShopOtp(serviceContext(c), c.var.user.id, id, c.req.valid("json")),
      200,
    );
  });
