import { z } from "@hono/zod-openapi";

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ example: "VALIDATION_FAILED" }),
    detail: z.string(),
    instance: z.string(),
    requestId: z.string(),
    errors: z
      .array(z.object({ field: z.string(), in: z.string(), message: z.string() }))
      .optional(),
  })
  .openapi("Problem");

const problemContent = { "application/problem+json": { schema: ProblemSchema } };

/** Standard problem responses to spread into a route's `responses`. */
export function problems(
  ...statuses: Array<400 | 401 | 402 | 403 | 404 | 409 | 413 | 422 | 429 | 503>
) {
  const described: Record<number, string> = {
    400: "Bad request",
    401: "Not authenticated",
    402: "Payment failed",
    403: "Forbidden",
    404: "Not found (also for another user's resource)",
    409: "Conflict",
    413: "Payload too large: the body is over the route's limit",
    422: "Validation failed: `errors` names each field",
    429: "Rate limited: see Retry-After",
    503: "A dependency is unavailable",
  };
  return Object.fromEntries(
    statuses.map((s) => [s, { description: described[s] ?? "Problem", content: problemContent }]),
  );
}

export const IdParam = z.object({
  id: z.uuid().openapi({
    param: { name: "id", in: "path" },
    example: "0192f0c1-7a4e-7c39-9a51-0c3c1f1e2a7b",
  }),
});

export const bearer = [{ bearer: [] }];

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.email(),
    displayName: z.string(),
    role: z.enum(["buyer", "seller", "admin"]),
    emailVerifiedAt: z.iso.datetime().nullable(),
    blocked: z.boolean(),
    createdAt: z.iso.datetime(),
  })
  .openapi("User");

export const SessionSchema = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().openapi({ example: 900 }),
    refreshToken: z.string(),
    refreshExpiresAt: z.iso.datetime(),
  })
  .openapi("Session");
