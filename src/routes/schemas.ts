import { z } from "@hono/zod-openapi";
import { IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE } from "../http/middleware/idempotency.ts";

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

/** A required JSON request body of this schema. */
export const json = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

/** A JSON response of this schema. */
export const ok = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

export const IdParam = z.object({
  id: z.uuid().openapi({
    param: { name: "id", in: "path" },
    example: "0192f0c1-7a4e-7c39-9a51-0c3c1f1e2a7b",
  }),
});

export const bearer = [{ bearer: [] }];

/**
 * Names a service's input schema in the OpenAPI document. The object is rebuilt from its shape
 * because zod v4 gives each schema its methods when it is made: one made before
 * @hono/zod-openapi extended zod (a test that imports the service first) has no `.openapi`.
 * What the service declared on the object itself with `.meta()` (at least one member, not both
 * ids) goes along, so the document shows the checks its refinements make. The service parses
 * its own schema again, so nothing is lost by the copy.
 */
export function named<S extends z.core.$ZodLooseShape>(
  schema: z.ZodObject<S>,
  name: string,
  description?: string,
) {
  const declared = schema.meta() ?? {};
  return z
    .object(schema.shape)
    .meta(declared)
    .openapi(name, description ? { description } : {});
}

/**
 * The Idempotency-Key header, one schema for every route that takes one, declaring the rule the
 * middleware checks. `required` where the route will not run without a key: a missing one is
 * a 400 IDEMPOTENCY_KEY_REQUIRED (before validation), a malformed one a 422 naming the header.
 */
export function idempotencyKeyHeader(description: string, required = false) {
  const key = z.string().min(1).max(257).regex(IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE);
  return z.object({
    "idempotency-key": (required ? key : key.optional()).openapi({
      param: { name: "idempotency-key", in: "header", required },
      description: `${required ? "Required" : "Optional"}. ${description} 1–255 printable ASCII characters (a UUID is ideal), bare or quoted as a structured-field string.`,
      example: "6f1c2b9e-4a7d-4f0e-9d3b-2f1e8c7a5b10",
    }),
  });
}

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
