import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { enforceLimit } from "../../lib/rate-limit.ts";
import { loginInput, loginUser } from "../../services/auth/login.ts";
import {
  confirmPasswordReset,
  passwordResetConfirmInput,
  passwordResetRequestInput,
  requestPasswordReset,
} from "../../services/auth/password-reset.ts";
import { registerInput, registerUser } from "../../services/auth/register.ts";
import { endAllSessions, endSession, refreshSession } from "../../services/auth/session.ts";
import { bearer, json, problems, SessionSchema, UserSchema } from "../schemas.ts";

const AuthResult = z.object({ user: UserSchema, session: SessionSchema }).openapi("AuthResult");
const RefreshBody = z.object({ refreshToken: z.string().min(20).max(200) });

const register = createRoute({
  method: "post",
  path: "/register",
  tags: ["auth"],
  summary: "Create a buyer or seller account and sign in",
  request: { body: json(registerInput.openapi("RegisterInput")) },
  responses: {
    201: { description: "Registered", content: { "application/json": { schema: AuthResult } } },
    ...problems(409, 422, 429, 503),
  },
});

const login = createRoute({
  method: "post",
  path: "/login",
  tags: ["auth"],
  summary: "Sign in with email and password",
  request: { body: json(loginInput.openapi("LoginInput")) },
  responses: {
    200: { description: "Signed in", content: { "application/json": { schema: AuthResult } } },
    ...problems(401, 422, 429, 503),
  },
});

const refresh = createRoute({
  method: "post",
  path: "/refresh",
  tags: ["auth"],
  summary: "Rotate a refresh token; a reused token revokes its whole family",
  request: { body: json(RefreshBody) },
  responses: {
    200: {
      description: "A new session",
      content: { "application/json": { schema: SessionSchema } },
    },
    ...problems(401, 422),
  },
});

const logout = createRoute({
  method: "post",
  path: "/logout",
  tags: ["auth"],
  summary: "Revoke the session of a refresh token",
  request: { body: json(RefreshBody) },
  responses: { 204: { description: "Signed out" }, ...problems(422) },
});

const logoutAll = createRoute({
  method: "post",
  path: "/logout-all",
  tags: ["auth"],
  summary: "Sign out everywhere: revoke every session of your account",
  description:
    "Every refresh token of the account is revoked, so no device can renew its access token; " +
    "access tokens already issued lapse within their 15 minutes.",
  security: bearer,
  middleware: [requireAuth],
  responses: { 204: { description: "Every session revoked" }, ...problems(401) },
});

const Accepted = z
  .object({ message: z.string() })
  .openapi("PasswordResetAccepted", { example: { message: "If an account uses this address…" } });
const ACCEPTED = {
  message: "If an account uses this address, a code is on its way to it. It expires in 15 minutes.",
};

const resetRequest = createRoute({
  method: "post",
  path: "/password-reset",
  tags: ["auth"],
  summary: "Mail a password reset code (the answer never says whether the address has an account)",
  request: { body: json(passwordResetRequestInput.openapi("PasswordResetRequest")) },
  responses: {
    202: { description: "Accepted", content: { "application/json": { schema: Accepted } } },
    ...problems(422, 429, 503),
  },
});

const resetConfirm = createRoute({
  method: "post",
  path: "/password-reset/confirm",
  tags: ["auth"],
  summary: "Set a new password with the mailed code; every session is signed out",
  description:
    "The code works once, for 15 minutes, and five wrong tries void it. An unknown address, " +
    "a missing, expired or wrong code all get the same 422.",
  request: { body: json(passwordResetConfirmInput.openapi("PasswordResetConfirm")) },
  responses: { 204: { description: "Password changed" }, ...problems(422, 429, 503) },
});

/** `/v1/auth`: register, login, refresh, logout (here or everywhere), password reset. */
export const authRoutes = createRouter()
  .openapi(register, async (c) => {
    const { redis, clientIp } = c.get("services");
    await enforceLimit(redis, "auth.register", clientIp);
    const result = await registerUser(serviceContext(c), c.req.valid("json"));
    return c.json(result, 201);
  })
  .openapi(login, async (c) => {
    const { redis, clientIp } = c.get("services");
    const body = c.req.valid("json");
    await enforceLimit(redis, "auth.login.ip", clientIp);
    await enforceLimit(redis, "auth.login.email", body.email);
    return c.json(await loginUser(serviceContext(c), body), 200);
  })
  .openapi(refresh, async (c) => {
    return c.json(await refreshSession(serviceContext(c), c.req.valid("json")), 200);
  })
  .openapi(logout, async (c) => {
    await endSession(serviceContext(c), c.req.valid("json"));
    return c.body(null, 204);
  })
  .openapi(logoutAll, async (c) => {
    await endAllSessions(serviceContext(c), c.var.user.id);
    return c.body(null, 204);
  })
  .openapi(resetRequest, async (c) => {
    const { redis, clientIp } = c.get("services");
    const body = c.req.valid("json");
    await enforceLimit(redis, "account.reset.ip", clientIp);
    await enforceLimit(redis, "account.reset.email", body.email);
    await requestPasswordReset(serviceContext(c), body);
    return c.json(ACCEPTED, 202);
  })
  .openapi(resetConfirm, async (c) => {
    const { redis, clientIp } = c.get("services");
    const body = c.req.valid("json");
    await enforceLimit(redis, "account.reset.confirm.ip", clientIp);
    await enforceLimit(redis, "account.reset.confirm.email", body.email);
    await confirmPasswordReset(serviceContext(c), body);
    return c.body(null, 204);
  });
