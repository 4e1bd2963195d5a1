import type { z } from "zod";
import { type FieldError, ValidationFailed } from "./errors.ts";

/**
 * Parses a service input, turning a failure into a 422 that names each field. Routes check the
 * shape already; this catches the rules across fields (refinements) the route schemas leave to
 * the service, and keeps a direct caller (a job, a test) from getting a bare ZodError.
 */
export function parseOr422<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  where: FieldError["in"] = "body",
): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ValidationFailed(
    parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join("."),
      in: where,
      message: issue.message,
    })),
  );
}
