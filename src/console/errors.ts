import type { Context } from "hono";
import { html } from "hono/html";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../http/context.ts";
import { onError } from "../http/problem.ts";
import { DomainError, ValidationFailed } from "../services/errors.ts";
import { alert, type FieldMessages, isPartial, page } from "./layout.ts";

/** The fields a 422 names, first message per field, as the API's problem lists them. */
export function fieldMessages(err: unknown): FieldMessages {
  if (!(err instanceof ValidationFailed)) return {};
  const out: FieldMessages = {};
  for (const e of err.errors) out[e.field] ??= e.message;
  return out;
}

/** What a refusal says about itself: the same status, title and detail as the API's problem. */
export interface Refusal {
  status: ContentfulStatusCode;
  title: string;
  detail: string;
  fields: FieldMessages;
}

/**
 * Any error as the API would answer it, through the app's one error mapping (which also logs
 * what is unexpected). CSRF's refusal (hono/csrf throws a 403 HTTPException) stays a 403.
 */
export async function refusalOf(err: Error, c: Context<AppEnv>): Promise<Refusal> {
  if (err instanceof HTTPException && err.status === 403) {
    return {
      status: 403,
      title: "Forbidden",
      detail: "This form was not sent from a Souk page, so it was refused.",
      fields: {},
    };
  }
  const res = onError(err, c);
  const body = (await res.json()) as { title?: string; detail?: string };
  return {
    status: res.status as ContentfulStatusCode,
    title: body.title ?? "Error",
    detail: body.detail ?? "Something failed.",
    fields: err instanceof DomainError ? fieldMessages(err) : {},
  };
}

/**
 * The console's error handler: the API's status and message as a page (or, for htmx, as a
 * fragment it swaps in). A 404 says no more than the API's 404 does.
 */
export async function consoleError(err: Error, c: Context<AppEnv>): Promise<Response> {
  const r = await refusalOf(err, c);
  if (isPartial(c)) return c.html(alert(`${r.title}: ${r.detail}`), r.status);
  return page(c, {
    title: r.title,
    status: r.status,
    body: html`${alert(r.detail)}<p><a href="/console">Back to the console</a></p>`,
  });
}
