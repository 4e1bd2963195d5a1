import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { ConfigError } from "../env.ts";
import { createLogger, type Logger } from "../lib/logger.ts";
import { DomainError, type ErrorCode, RateLimited } from "../services/errors.ts";
import type { AppEnv } from "./context.ts";

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  VALIDATION_FAILED: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  ACCOUNT_BLOCKED: 403,
  NOT_FOUND: 404,
  INSUFFICIENT_STOCK: 409,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REQUIRED: 400,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  PAYMENT_FAILED: 402,
  BID_TOO_LOW: 409,
  AUCTION_CLOSED: 409,
  SERVICE_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
  SIGNATURE_INVALID: 400,
  PAYLOAD_TOO_LARGE: 413,
};

const TITLE: Record<ErrorCode, string> = {
  VALIDATION_FAILED: "Validation failed",
  UNAUTHENTICATED: "Unauthenticated",
  FORBIDDEN: "Forbidden",
  ACCOUNT_BLOCKED: "Account blocked",
  NOT_FOUND: "Not found",
  INSUFFICIENT_STOCK: "Insufficient stock",
  CONFLICT: "Conflict",
  IDEMPOTENCY_KEY_REQUIRED: "Idempotency-Key required",
  IDEMPOTENCY_KEY_REUSED: "Idempotency-Key reused",
  RATE_LIMITED: "Rate limited",
  PAYMENT_FAILED: "Payment failed",
  BID_TOO_LOW: "Bid too low",
  AUCTION_CLOSED: "Auction closed",
  SERVICE_UNAVAILABLE: "Service unavailable",
  DATABASE_UNAVAILABLE: "Database unavailable",
  SIGNATURE_INVALID: "Signature invalid",
  PAYLOAD_TOO_LARGE: "Payload too large",
};

/** Codes only HTTP itself raises, never a service: no domain error carries them. */
const HTTP_ONLY = {
  INTERNAL: { status: 500, title: "Internal error" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
} as const;
type HttpOnlyCode = keyof typeof HTTP_ONLY;
const isHttpOnly = (code: string): code is HttpOnlyCode => Object.hasOwn(HTTP_ONLY, code);

/** An RFC 9457 problem response with Souk's stable `code`. */
export function problem(
  c: Context<AppEnv>,
  code: ErrorCode | HttpOnlyCode,
  detail: string,
  extra: Record<string, unknown> = {},
  status?: ContentfulStatusCode,
): Response {
  const s = status ?? (isHttpOnly(code) ? HTTP_ONLY[code].status : STATUS[code]);
  // Extension members first, so a domain detail named like a standard member (a complaint's
  // `status: "resolved"`) can never overwrite what the problem says about itself.
  const body = {
    ...extra,
    type: `https://souk.dev/problems/${code.toLowerCase().replaceAll("_", "-")}`,
    title: isHttpOnly(code) ? HTTP_ONLY[code].title : TITLE[code],
    status: s,
    code,
    detail,
    instance: new URL(c.req.url).pathname,
    requestId: c.get("requestId"),
  };
  return new Response(JSON.stringify(body), {
    status: s,
    headers: {
      "content-type": "application/problem+json",
      "x-request-id": c.get("requestId") ?? "",
    },
  });
}

/** Seconds a client is told to wait after a 503: long enough for a burst to drain. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/** The one place domain errors become HTTP. */
export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof DomainError) {
    const res = problem(c, err.code, err.message, err.details);
    if (err instanceof RateLimited) res.headers.set("retry-after", String(err.retryAfterSeconds));
    else if (res.status === 503) {
      res.headers.set("retry-after", String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    }
    return res;
  }
  if (isDatabaseUnavailable(err)) {
    // The platform's fault and temporary, so 503 and not 500; logged as a warning with its cause
    // so an operator sees which connection failed.
    loggerOf(c).warn("database unavailable", {
      error: err.message,
      cause: causeOf(err),
      name: err.name,
    });
    const res = problem(
      c,
      "DATABASE_UNAVAILABLE",
      "The database could not be reached or did not answer in time. Try again shortly.",
    );
    res.headers.set("retry-after", String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    return res;
  }
  if (err instanceof HTTPException && err.status < 500) {
    // Hono raises these for a body that is not JSON at all; name the body as the field.
    const errors = [{ field: "", in: "body", message: err.message }];
    return problem(c, "VALIDATION_FAILED", err.message, { errors }, 422);
  }
  // The logger redacts SQL parameters and quoted values: a failed query's message holds them.
  loggerOf(c).error("unhandled error", {
    error: err.message,
    cause: causeOf(err),
    name: err.name,
    stack: err.stack,
  });
  const detail = err instanceof ConfigError ? "The server is misconfigured." : "Something failed.";
  return problem(c, "INTERNAL", detail);
}

/** The request's logger, or a bare one when the error came before the services were built. */
function loggerOf(c: Context<AppEnv>): Logger {
  return c.get("services")?.logger ?? createLogger();
}

/** The wrapped error's message (drizzle puts the driver's error in `cause`), for the log. */
function causeOf(err: Error): string | undefined {
  const cause: unknown = err.cause;
  if (cause === undefined || cause === null) return undefined;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  if (typeof cause === "object" && "message" in cause) return String(cause.message);
  return String(cause);
}
