import type { Context } from "hono";
import { html, raw } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { ShopRole } from "../../../db/schema/shops.ts";
import type { AppEnv, AuthUser } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { NotFound } from "../../../services/errors.ts";
import { SHOP_PERMISSIONS, type ShopPermission } from "../../../services/shops/access.ts";
import { listMyShops } from "../../../services/shops/queries.ts";
import type { ShopManagedView } from "../../../services/shops/views.ts";
import { refusalOf } from "../../errors.ts";
import type { FieldMessages, Html } from "../../layout.ts";
import { viewerOf } from "../../session.ts";

/** How many of the viewer's shops the picker lists. */
const PICKER_SHOPS = 100;

const uuid = z.uuid();

/** The seller area's sections, in the order of its sub-navigation. */
const SECTIONS = [
  { href: "/console/seller", label: "Dashboard" },
  { href: "/console/seller/inventory", label: "Inventory" },
  { href: "/console/seller/bulk", label: "Bulk edit" },
  { href: "/console/seller/orders", label: "Orders" },
  { href: "/console/seller/requests", label: "Requests" },
  { href: "/console/seller/analytics", label: "Analytics" },
  { href: "/console/seller/uploads", label: "Uploads" },
  { href: "/console/seller/receipts", label: "Receipts" },
  { href: "/console/seller/settings", label: "Settings" },
  { href: "/console/seller/team", label: "Team" },
] as const;

export type SectionHref = (typeof SECTIONS)[number]["href"];

/** The shop a seller page shows, the viewer's role in it, and every shop they belong to. */
export interface SellerScope {
  user: AuthUser;
  shop: ShopManagedView | null;
  role: ShopRole | null;
  shops: ShopManagedView[];
}

/**
 * The shop named by `?shop=` (or the form's `shop`), else the viewer's first. A shop the viewer
 * is not on the team of is a 404, as the API answers: the page never says whether it exists.
 */
export async function sellerScope(c: Context<AppEnv>, named?: string): Promise<SellerScope> {
  const user = viewerOf(c);
  if (!user) throw new NotFound("shop");
  const mine = await listMyShops(serviceContext(c), user.id, { limit: PICKER_SHOPS });
  const wanted = named ?? c.req.query("shop");
  if (wanted !== undefined && !uuid.safeParse(wanted).success) throw new NotFound("shop", wanted);
  const shop = wanted ? mine.items.find((s) => s.id === wanted) : mine.items[0];
  if (wanted && !shop) throw new NotFound("shop", wanted);
  return { user, shop: shop ?? null, role: shop?.myRole ?? null, shops: mine.items };
}

/** Whether the viewer's role in the shop allows `permission` (the services' own table). */
export function may(scope: SellerScope, permission: ShopPermission): boolean {
  const allowed: readonly ShopRole[] = SHOP_PERMISSIONS[permission];
  return scope.role !== null && allowed.includes(scope.role);
}

/** A seller URL for the scope's shop, with any extra query. */
export function shopHref(
  scope: SellerScope,
  path: string,
  query: Record<string, string> = {},
): string {
  const q = new URLSearchParams({ ...(scope.shop ? { shop: scope.shop.id } : {}), ...query });
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/**
 * The seller area's header: the shop picker (when the viewer has several shops) and the
 * sections, the current one marked. Every link keeps the chosen shop.
 */
export function sellerNav(scope: SellerScope, current: SectionHref): Html {
  const picker =
    scope.shops.length > 1
      ? html`<form method="get" action="${current}" class="filters">
  <div class="field"><label for="f-shop">Shop</label>
  <select id="f-shop" name="shop">${scope.shops.map(
    (s) =>
      html`<option value="${s.id}"${s.id === scope.shop?.id ? html` selected` : ""}>${s.name}</option>`,
  )}</select></div>
  <button type="submit">Show</button>
</form>`
      : "";
  return html`${picker}<nav aria-label="Seller" class="tabs"><ul>${SECTIONS.map(
    (s) =>
      html`<li><a href="${shopHref(scope, s.href)}"${s.href === current ? html` aria-current="page"` : ""}>${s.label}</a></li>`,
  )}</ul></nav>`;
}

/** What a page says to someone on no shop's team. */
export const NO_SHOP = html`<p>You are not on the team of any shop yet.</p>`;

/** A page section the viewer's role does not include, said plainly instead of a 403 page. */
export function notForRole(scope: SellerScope, what: string): Html {
  return html`<p class="alert error" role="alert">Your role in this shop (${scope.role ?? "none"}) does not include ${what}.</p>`;
}

/** JSON for a `<script type="application/json">`: nothing in it can close the element. */
export function jsonScript(id: string, value: unknown): Html {
  return html`<script type="application/json" id="${id}">${raw(
    JSON.stringify(value).replaceAll("<", "\\u003c"),
  )}</script>`;
}

/** Today, as a UTC day. */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** A percentage change (0.125 → "+12.5%"); a dash when there is nothing to compare with. */
export function percent(change: number | null | undefined): string {
  if (change === null || change === undefined) return "—";
  const p = Math.round(change * 1000) / 10;
  return `${p > 0 ? "+" : ""}${p}%`;
}

/** A short timestamp for tables: `2026-12-03 14:05 UTC`. */
export function when(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 16).replace("T", " ")} UTC` : "—";
}

/** The message a page shows once after a redirect, from a fixed list (never echoed input). */
export function flash<K extends string>(c: Context<AppEnv>, messages: Record<K, string>): string {
  const key = c.req.query("done");
  return key && Object.hasOwn(messages, key) ? messages[key as K] : "";
}

/** A posted form's string fields (files are not taken here). */
export async function formOf(c: Context<AppEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  return Object.fromEntries(
    Object.entries(body).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

/** A form sent back with what was typed and the service's refusal. */
export interface FormState {
  typed?: Record<string, string>;
  /** By field; `form` holds a refusal that names no field. */
  errors?: FieldMessages;
  status?: ContentfulStatusCode;
}

/**
 * A refusal the viewer can fix on the same page (one of `statuses`, as the API answers it) as
 * the form's errors: the fields it names, or its detail under `form`. Anything else is thrown
 * on, to the console's error page.
 */
export async function formRefusal(
  c: Context<AppEnv>,
  err: unknown,
  statuses: readonly number[] = [409, 422],
): Promise<Required<Pick<FormState, "errors" | "status">>> {
  if (!(err instanceof Error)) throw err;
  const r = await refusalOf(err, c);
  if (!statuses.includes(r.status)) throw err;
  const errors = Object.keys(r.fields).length > 0 ? r.fields : { form: r.detail };
  return { errors, status: r.status };
}
