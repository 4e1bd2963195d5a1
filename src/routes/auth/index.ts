import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import { enforceLimit } from "../../lib/rate-limit.ts";
import { loginInput, loginUser } from "../../services/auth/login.ts";
import { registerInput, registerUser } from "../../services/auth/register.ts";
import { endSession, refreshSession } from "../../services/auth/session.ts";
import { problems, SessionSchema, UserSchema } from "../schemas.ts";

const AuthResult = z.object({ user: UserSchema, session: SessionSchema }).openapi("AuthResult");
const RefreshBody = z.object({ refreshToken: z.string().min(20).max(200) });
const json = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

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

/** `/v1/auth`: register, login, refresh, logout. */
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
  });
