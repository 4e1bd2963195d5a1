import type { Context } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { parseOr422 } from "../../../lib/input.ts";
import type { Page } from "../../../lib/pagination.ts";
import type { ServiceContext } from "../../../services/context.ts";
import { NotFound } from "../../../services/errors.ts";
import { refusalOf } from "../../errors.ts";
import { alert, type FieldMessages, field, type Html, page } from "../../layout.ts";

/** The admin's sections, in the order of the sub-navigation. */
const SECTIONS = [
  { href: "/console/admin", label: "Overview" },
  { href: "/console/admin/shops", label: "Shops" },
  { href: "/console/admin/complaints", label: "Complaints" },
  { href: "/console/admin/users", label: "Users" },
  { href: "/console/admin/payment-issues", label: "Payment issues" },
  { href: "/console/admin/dead-letters", label: "Dead letters" },
  { href: "/console/admin/job-runs", label: "Job runs" },
  { href: "/console/admin/orders", label: "Orders" },
  { href: "/console/admin/uploads", label: "Uploads" },
  { href: "/console/admin/audit", label: "Audit log" },
] as const;

function adminNav(current: string): Html {
  return html`<nav aria-label="Admin" class="tabs"><ul>${SECTIONS.map((s) => {
    // The overview is current only on itself; a section also on the pages under it.
    const here =
      current === s.href || (s.href !== "/console/admin" && current.startsWith(`${s.href}/`));
    return html`<li><a href="${s.href}"${here ? html` aria-current="page"` : ""}>${s.label}</a></li>`;
  })}</ul></nav>`;
}

/** A page of the admin's area: the layout's page with the admin sub-navigation on top. */
export function adminPage(
  c: Context<AppEnv>,
  opts: { title: string; body: Html; status?: ContentfulStatusCode },
): Response | Promise<Response> {
  return page(c, { ...opts, body: html`${adminNav(c.req.path)}${opts.body}` });
}

/** Time as the console writes it: UTC, to the minute. */
export const when = (iso: string | null): string =>
  iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : "—";

/** An enum value (or a comma-separated list of them) for reading: `partially_failed` → words. */
export const label = (s: string): string => s.replaceAll("_", " ").replaceAll(",", " or ");

/**
 * A value of a JSON column (a payment issue's detail, an audit row's change) for reading, in a
 * box that scrolls sideways on a phone (focusable, so a keyboard can scroll it too).
 */
export function json(value: unknown): Html {
  if (value === null || value === undefined) return html`<span class="muted">none</span>`;
  return html`<div class="table-wrap" tabindex="0"><pre>${JSON.stringify(value, null, 2)}</pre></div>`;
}

/** The id in the path, or the API's 404 for anything that is not one (as its IdParam does). */
export function idParam(c: Context<AppEnv>, what: string): string {
  const id = c.req.param("id") ?? "";
  if (!z.uuid().safeParse(id).success) throw new NotFound(what, id);
  return id;
}

/** A form's text fields (a file upload has no place in these forms). */
export async function formOf(c: Context<AppEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  return Object.fromEntries(
    Object.entries(body).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

/**
 * The refusal of a form the page shows beside the form (a 422 names its fields, a 409 says why);
 * anything else (404, 403) is rethrown for the console's error page, as the API answers it.
 */
export async function formRefusal(err: unknown, c: Context<AppEnv>) {
  if (!(err instanceof Error)) throw err;
  const r = await refusalOf(err, c);
  if (r.status !== 409 && r.status !== 422) throw err;
  return r;
}

/** A labelled multi-line input with its error, like layout's `field`. */
export function textarea(opts: {
  id: string;
  name: string;
  label: string;
  value?: string;
  errors?: FieldMessages;
  required?: boolean;
}): Html {
  const error = opts.errors?.[opts.name];
  return html`<div class="field">
  <label for="${opts.id}">${opts.label}</label>
  <textarea id="${opts.id}" name="${opts.name}" rows="3"${opts.required ? html` required` : ""}${
    error ? html` aria-invalid="true" aria-describedby="${opts.id}-error"` : ""
  }>${opts.value ?? ""}</textarea>
  ${error ? html`<p class="error" id="${opts.id}-error">${error}</p>` : ""}
</div>`;
}

/** A labelled select with its error; `blank` adds a first option with no value. */
export function select(opts: {
  id: string;
  name: string;
  label: string;
  options: readonly string[];
  value?: string | undefined;
  blank?: string;
  errors?: FieldMessages;
}): Html {
  const error = opts.errors?.[opts.name];
  const option = (value: string, text: string) =>
    html`<option value="${value}"${opts.value === value ? html` selected` : ""}>${text}</option>`;
  return html`<div class="field">
  <label for="${opts.id}">${opts.label}</label>
  <select id="${opts.id}" name="${opts.name}"${
    error ? html` aria-invalid="true" aria-describedby="${opts.id}-error"` : ""
  }>${opts.blank !== undefined ? option("", opts.blank) : ""}${opts.options.map((o) =>
    option(o, label(o)),
  )}</select>
  ${error ? html`<p class="error" id="${opts.id}-error">${error}</p>` : ""}
</div>`;
}

/** One filter of a list: a text box, a date, or a choice among `options` ("any" when blank). */
export interface Filter {
  name: string;
  label: string;
  type?: "search" | "date";
  options?: readonly string[];
}

function filterForm(
  path: string,
  filters: readonly Filter[],
  values: Record<string, string>,
  errors: FieldMessages,
): Html {
  return html`<form method="get" action="${path}" class="filters" role="search">
  ${filters.map((f) =>
    f.options
      ? select({
          id: `f-${f.name}`,
          name: f.name,
          label: f.label,
          options: f.options,
          value: values[f.name],
          blank: "any",
          errors,
        })
      : field({
          name: f.name,
          label: f.label,
          type: f.type ?? "search",
          value: values[f.name],
          errors,
        }),
  )}
  <button type="submit">Show</button>
</form>`;
}

/** A calendar day of a filter as the instant its day starts or ends (UTC). */
export const dayStart = (day: string | undefined) =>
  day ? new Date(`${day}T00:00:00Z`) : undefined;
export const dayEnd = (day: string | undefined) =>
  day ? new Date(`${day}T23:59:59.999Z`) : undefined;

/** `from` and `to` filters as calendar days (a date input's value). */
export const DAYS = { from: z.iso.date().optional(), to: z.iso.date().optional() };

/** For `.refine(...daysInOrder)`: `to` not before `from`, the API's own rule and message. */
export const daysInOrder: [
  (q: { from?: string | undefined; to?: string | undefined }) => boolean,
  { message: string; path: string[] },
] = [
  (q) => !q.from || !q.to || q.from <= q.to,
  { message: "must not be before `from`", path: ["to"] },
];

/** The date filters of a list, as `withDays` parses them. */
export const DAY_FILTERS: readonly Filter[] = [
  { name: "from", label: "From", type: "date" },
  { name: "to", label: "To", type: "date" },
];

const PAGE_SIZE = 25;
const cursorField = z.object({ cursor: z.string().min(1).max(512).optional() });

/** The page a list asks its service for. */
export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface ListOptions<S extends z.ZodType, T> {
  title: string;
  path: string;
  filters: readonly Filter[];
  /** The filters' schema (the cursor is added); blank fields arrive absent. */
  schema: S;
  /** What the list shows on a first visit, before its form was sent (open items, say). */
  defaults?: Record<string, string>;
  load: (ctx: ServiceContext, q: z.output<S>, page: PageRequest) => Promise<Page<T>>;
  render: (items: T[]) => Html;
  empty: string;
  /** Shown above the list: the outcome of the form that led here. */
  notice?: Html;
  status?: ContentfulStatusCode;
}

/**
 * A filtered, cursor-paged admin list: the filters as a GET form, parsed like the API's query
 * (a bad value is a 422 naming its field, shown on the form), the page of items, and a link to
 * the next page that keeps the filters.
 */
export async function filteredList<S extends z.ZodType, T>(
  c: Context<AppEnv>,
  opts: ListOptions<S, T>,
): Promise<Response> {
  const query = c.req.query();
  const sent = opts.filters.some((f) => f.name in query);
  const values: Record<string, string> = sent ? {} : { ...opts.defaults };
  for (const f of opts.filters) {
    const v = query[f.name]?.trim();
    if (v) values[f.name] = v;
  }
  const form = (errors: FieldMessages) => filterForm(opts.path, opts.filters, values, errors);
  try {
    const q = parseOr422(opts.schema, values, "query");
    const { cursor } = parseOr422(cursorField, { cursor: query.cursor || undefined }, "query");
    const list = await opts.load(serviceContext(c), q, {
      limit: PAGE_SIZE,
      ...(cursor ? { cursor } : {}),
    });
    // Every filter is sent, blank or not, so the next page does not fall back to the defaults.
    const kept = Object.fromEntries(opts.filters.map((f) => [f.name, values[f.name] ?? ""]));
    const next = list.nextCursor
      ? html`<p><a class="button" href="${opts.path}?${new URLSearchParams({
          ...kept,
          cursor: list.nextCursor,
        }).toString()}">Next page</a></p>`
      : "";
    return adminPage(c, {
      title: opts.title,
      status: opts.status ?? 200,
      body: html`${form({})}${opts.notice ?? ""}
${list.items.length === 0 ? html`<p>${opts.empty}</p>` : opts.render(list.items)}
${next}`,
    });
  } catch (err) {
    const r = await formRefusal(err, c);
    if (r.status !== 422) throw err;
    return adminPage(c, {
      title: opts.title,
      status: 422,
      body: html`${alert(r.fields.cursor ?? "Check the filters below.")}${form(r.fields)}`,
    });
  }
}

/** A query string that sends `values` (for links to a filtered list). */
export const queryOf = (values: Record<string, string>): string =>
  new URLSearchParams(values).toString();

/** The outcome of a form the page was redirected to after (a closed set: never echoed text). */
export function doneNotice(c: Context<AppEnv>, messages: Record<string, string>): Html {
  const done = c.req.query("done");
  return done && Object.hasOwn(messages, done) ? alert(messages[done], "ok") : html``;
}

/** What a page shows around its forms: the outcome that led here, or a refusal with its fields. */
export interface FormState {
  notice?: Html;
  message?: string | null;
  errors?: FieldMessages;
  values?: Record<string, string>;
}

/**
 * An admin's decision posted by a plain form: `act` calls the service; on success the browser
 * is sent on to `done` (post, redirect, get: a reload repeats nothing), on a 409 or 422 `refused`
 * shows the page again with the refusal and what was typed, under the API's status.
 */
export async function submit(
  c: Context<AppEnv>,
  opts: {
    what: string;
    act: (id: string, form: Record<string, string>) => Promise<unknown>;
    done: (id: string) => string;
    refused: (id: string, state: FormState, status: ContentfulStatusCode) => Promise<Response>;
  },
): Promise<Response> {
  const id = idParam(c, opts.what);
  const form = await formOf(c);
  try {
    await opts.act(id, form);
    return c.redirect(opts.done(id), 303);
  } catch (err) {
    const r = await formRefusal(err, c);
    return opts.refused(id, { message: r.detail, errors: r.fields, values: form }, r.status);
  }
}

/**
 * One record's page with its decisions: `show` renders it (with the outcome a redirect named in
 * `?done=`), and `decide(done, act)` is the handler of a form that runs `act` through `submit`,
 * coming back to the record with the refusal on it.
 */
export function recordPages<V, D extends string>(opts: {
  what: string;
  title: string;
  base: string;
  done: Record<D, string>;
  load: (ctx: ServiceContext, id: string) => Promise<V>;
  render: (c: Context<AppEnv>, record: V, state: FormState) => Html;
}) {
  const show = async (
    c: Context<AppEnv>,
    id: string,
    state: FormState,
    status: ContentfulStatusCode = 200,
  ) => {
    const record = await opts.load(serviceContext(c), id);
    return adminPage(c, { title: opts.title, status, body: opts.render(c, record, state) });
  };
  return {
    show: (c: Context<AppEnv>) =>
      show(c, idParam(c, opts.what), { notice: doneNotice(c, opts.done) }),
    decide:
      (
        done: D,
        act: (ctx: ServiceContext, id: string, form: Record<string, string>) => Promise<unknown>,
      ) =>
      (c: Context<AppEnv>) =>
        submit(c, {
          what: opts.what,
          act: (id, form) => act(serviceContext(c), id, form),
          done: (id) => `${opts.base}/${id}?done=${done}`,
          refused: (id, state, status) => show(c, id, state, status),
        }),
  };
}
