/** Stripe's error envelope: `{ error: { type, code, message, param, decline_code, … } }`. */
export type StripeErrorType =
  | "api_error"
  | "card_error"
  | "idempotency_error"
  | "invalid_request_error";

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
  request_log_url?: string;
}

/**
 * An API failure answered in Stripe's shape. `stored` says whether an idempotent replay should
 * return it again: Stripe saves a result once the endpoint started executing (a card decline is
 * saved) but not when the parameters failed validation.
 */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly body: StripeErrorBody;
  readonly stored: boolean;
  constructor(status: number, body: StripeErrorBody, stored = true) {
    super(body.message);
    this.status = status;
    this.body = body;
    this.stored = stored;
  }
}

function docUrl(code: string | undefined): string | undefined {
  return code ? `https://stripe.com/docs/error-codes/${code.replace(/_/g, "-")}` : undefined;
}

/** A 400 invalid_request_error raised while the request executes (saved for replays). */
export function invalidRequest(
  message: string,
  opts: { code?: string; param?: string; status?: number; extra?: Partial<StripeErrorBody> } = {},
): ApiError {
  const body: StripeErrorBody = { type: "invalid_request_error", message };
  if (opts.code) body.code = opts.code;
  if (opts.param) body.param = opts.param;
  const doc = docUrl(opts.code);
  if (doc) body.doc_url = doc;
  return new ApiError(opts.status ?? 400, { ...body, ...opts.extra });
}

/** A 400 raised by parameter validation, before anything ran (not saved for replays). */
export function invalidParam(message: string, param: string, code?: string): ApiError {
  const body: StripeErrorBody = { type: "invalid_request_error", message, param };
  if (code) {
    body.code = code;
    body.doc_url = docUrl(code) ?? "";
  }
  return new ApiError(400, body, false);
}

export function missingParam(param: string): ApiError {
  return invalidParam(`Missing required param: ${param}.`, param, "parameter_missing");
}

/** 404 `No such payment_intent: 'pi_…'`, as Stripe answers for an unknown or foreign id. */
export function resourceMissing(kind: string, id: string, param = "id"): ApiError {
  return new ApiError(
    404,
    {
      type: "invalid_request_error",
      code: "resource_missing",
      param,
      message: `No such ${kind}: '${id}'`,
      doc_url: docUrl("resource_missing") ?? "",
    },
    false,
  );
}

export function unrecognizedUrl(method: string, path: string): ApiError {
  return new ApiError(
    404,
    {
      type: "invalid_request_error",
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/. (This is the local Stripe emulator: the endpoint may exist in Stripe but is not emulated.)`,
    },
    false,
  );
}
