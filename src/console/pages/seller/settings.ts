import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { NotFound } from "../../../services/errors.ts";
import {
  type LocationView,
  listLocations,
  MANAGER_LOCATION_FIELDS,
  updateLocation,
} from "../../../services/shops/locations.ts";
import { startPayoutOnboarding } from "../../../services/shops/payouts.ts";
import {
  getShopSettings,
  MANAGER_SHOP_FIELDS,
  type ShopSettingsInput,
  type ShopSettingsView,
  updateShopSettings,
} from "../../../services/shops/settings.ts";
import { alert, type FieldMessages, field, type Html, minorPerMajor, page } from "../../layout.ts";
import {
  type FormState,
  flash,
  formOf,
  formRefusal,
  may,
  NO_SHOP,
  type SellerScope,
  sellerNav,
  sellerScope,
  shopHref,
} from "./shell.ts";

const uuid = z.uuid();

const DONE = {
  saved: "Settings saved.",
  unchanged: "Nothing to change.",
  location: "Location saved.",
} as const;

/** The profile form's text fields, in order, with what a manager may change. */
const PROFILE = [
  { name: "name", label: "Shop name" },
  { name: "description", label: "Description" },
  { name: "contactEmail", label: "Contact email", type: "email" },
  { name: "contactPhone", label: "Contact phone (E.164)", type: "tel" },
  { name: "timeZone", label: "Time zone" },
] as const;

const editable = (role: SellerScope["role"], name: string): boolean =>
  role === "owner" ||
  (role === "manager" && (MANAGER_SHOP_FIELDS as readonly string[]).includes(name));

/** An amount typed in major units as minor units; blank: null (the platform default). */
function minorOf(typed: string | undefined, currency: string): number | null | undefined {
  if (typed === undefined) return undefined;
  if (typed.trim() === "") return null;
  const n = Number(typed);
  return Number.isFinite(n) ? Math.round(n * minorPerMajor(currency)) : Number.NaN;
}

const majorOf = (minor: number | null, currency: string) =>
  minor === null ? "" : String(minor / minorPerMajor(currency));

/** Only what the form changes, so an untouched contact email keeps its verification. */
function changes(s: ShopSettingsView, form: Record<string, string>): ShopSettingsInput {
  const out: Record<string, unknown> = {};
  for (const f of PROFILE) {
    const typed = form[f.name];
    if (typed !== undefined && typed.trim() !== String(s[f.name] ?? "")) out[f.name] = typed;
  }
  for (const name of ["deliveryFeeMinor", "freeDeliveryMinMinor"] as const) {
    const minor = minorOf(form[name], s.currency);
    if (minor !== undefined && minor !== s[name]) out[name] = minor;
  }
  return out as ShopSettingsInput;
}

function profileForm(
  scope: SellerScope,
  s: ShopSettingsView,
  typed: Record<string, string>,
  errors: FieldMessages,
): Html {
  const ro = (name: string) => (editable(scope.role, name) ? html`` : html` readonly`);
  const value = (name: keyof ShopSettingsView & string) => typed[name] ?? String(s[name] ?? "");
  return html`<form method="post" action="/console/seller/settings" class="card stack" aria-labelledby="h-profile">
  <h2 id="h-profile">Shop profile and delivery</h2>
  <input type="hidden" name="shop" value="${s.id}">
  ${PROFILE.map((f) =>
    field({
      name: f.name,
      label: f.label,
      type: "type" in f ? f.type : "text",
      value: value(f.name),
      errors,
      extra: ro(f.name),
    }),
  )}
  <p class="hint">Currency: ${s.currency}. A new contact email must be verified again before buyers see the shop.</p>
  ${field({ name: "deliveryFeeMinor", label: `Delivery fee (${s.currency}; blank: platform default)`, type: "number", value: typed.deliveryFeeMinor ?? majorOf(s.deliveryFeeMinor, s.currency), errors, extra: html` step="0.01" min="0"${ro("deliveryFeeMinor")}` })}
  ${field({ name: "freeDeliveryMinMinor", label: `Free delivery from (${s.currency}; blank: platform default)`, type: "number", value: typed.freeDeliveryMinMinor ?? majorOf(s.freeDeliveryMinMinor, s.currency), errors, extra: html` step="0.01" min="0"${ro("freeDeliveryMinMinor")}` })}
  <button type="submit">Save settings</button>
</form>`;
}

function locationRows(scope: SellerScope, locations: LocationView[]): Html {
  const canEdit = scope.role === "owner" || scope.role === "manager";
  const mayName = scope.role === "owner" || MANAGER_LOCATION_FIELDS.includes("name");
  return html`<div class="table-wrap"><table class="grid-table" id="locations">
<caption class="sr-only">Branches and warehouses</caption>
<thead><tr><th scope="col">Code</th><th scope="col">Kind</th><th scope="col">Name and pickup</th></tr></thead>
<tbody>${locations.map(
    (l) =>
      html`<tr id="location-${l.id}"><th scope="row">${l.code}</th><td>${l.kind}</td><td>${
        canEdit
          ? html`<form method="post" action="/console/seller/settings/locations/${l.id}" class="inline">
  <input type="hidden" name="shop" value="${scope.shop?.id ?? ""}">
  <label class="sr-only" for="loc-name-${l.id}">Name of ${l.code}</label>
  <input id="loc-name-${l.id}" name="name" value="${l.name}"${mayName ? "" : html` readonly`}>
  ${
    l.kind === "branch"
      ? html`<label><input type="checkbox" name="pickupEnabled" value="true"${l.pickupEnabled ? html` checked` : ""}> Pickup</label>`
      : ""
  }
  <button type="submit">Save<span class="sr-only"> ${l.code}</span></button>
</form>`
          : html`${l.name}${l.pickupEnabled ? " · pickup" : ""}`
      }${l.address ? html`<span class="muted block">${l.address.line1}, ${l.address.city}</span>` : ""}</td></tr>`,
  )}</tbody></table></div>`;
}

function payouts(scope: SellerScope, s: ShopSettingsView): Html {
  return html`<section class="card" aria-labelledby="h-payouts">
<h2 id="h-payouts">Payouts</h2>
<p>${s.payoutsEnabled ? html`<span class="badge approved">Payouts on</span> Stripe pays this shop's share of each order out to its account.` : html`<span class="badge pending">Payouts off</span> Buyers cannot pay until Stripe has the shop's details.`}</p>
${
  may(scope, "payouts.manage")
    ? html`<form method="post" action="/console/seller/settings/payouts">
  <input type="hidden" name="shop" value="${s.id}">
  <button type="submit"${s.payoutsEnabled ? html` class="secondary"` : ""}>${s.payoutsEnabled ? "Review payout details on Stripe" : "Set up payouts on Stripe"}</button>
</form>`
    : ""
}</section>`;
}

async function settingsPage(
  c: Context<AppEnv>,
  scope: SellerScope,
  state: FormState = {},
): Promise<Response> {
  const nav = sellerNav(scope, "/console/seller/settings");
  if (!scope.shop) return page(c, { title: "Settings", body: html`${nav}${NO_SHOP}` });
  const ctx = serviceContext(c);
  const [s, locations] = await Promise.all([
    getShopSettings(ctx, scope.user.id, scope.shop.id),
    listLocations(ctx, scope.user.id, scope.shop.id, {}),
  ]);
  const errors = state.errors ?? {};
  return page(c, {
    title: `Settings · ${s.name}`,
    status: state.status,
    body: html`${nav}${alert(flash(c, DONE), "ok")}${alert(errors.form)}
${
  scope.role === "staff"
    ? html`<p>Your role in this shop (staff) reads the settings; owners and managers change them.</p>`
    : profileForm(scope, s, state.typed ?? {}, errors)
}
<section aria-labelledby="h-locations"><h2 id="h-locations">Branches and warehouses</h2>
${locationRows(scope, locations.items)}</section>
${payouts(scope, s)}`,
  });
}

/**
 * `/console/seller/settings`: the shop's profile and delivery fees (the settings service:
 * owners everything, managers phone and delivery), its branches and warehouses (the locations
 * service: owners rename, managers switch pickup), and payouts (Stripe Connect onboarding,
 * owners). Team members and invitations are on the team page.
 */
export const sellerSettingsPages = new Hono<AppEnv>()
  .get("/seller/settings", async (c) => settingsPage(c, await sellerScope(c)))
  .post("/seller/settings", async (c) => {
    const form = await formOf(c);
    const scope = await sellerScope(c, form.shop ?? "");
    if (!scope.shop) throw new NotFound("shop");
    const ctx = serviceContext(c);
    const current = await getShopSettings(ctx, scope.user.id, scope.shop.id);
    const input = changes(current, form);
    if (Object.keys(input).length === 0) {
      return c.redirect(shopHref(scope, "/console/seller/settings", { done: "unchanged" }), 303);
    }
    try {
      await updateShopSettings(ctx, scope.user.id, scope.shop.id, input);
    } catch (err) {
      const refused = await formRefusal(c, err, [403, 409, 422]);
      return settingsPage(c, scope, { ...refused, typed: form });
    }
    return c.redirect(shopHref(scope, "/console/seller/settings", { done: "saved" }), 303);
  })
  .post("/seller/settings/locations/:id", async (c) => {
    const id = c.req.param("id");
    if (!uuid.safeParse(id).success) throw new NotFound("location", id);
    const form = await formOf(c);
    const scope = await sellerScope(c, form.shop ?? "");
    if (!scope.shop) throw new NotFound("shop");
    const ctx = serviceContext(c);
    const { items } = await listLocations(ctx, scope.user.id, scope.shop.id, {});
    const before = items.find((l) => l.id === id);
    if (!before) throw new NotFound("location", id);
    const input: { name?: string; pickupEnabled?: boolean } = {};
    if (form.name !== undefined && form.name.trim() !== before.name) input.name = form.name;
    const pickup = form.pickupEnabled === "true";
    if (before.kind === "branch" && pickup !== before.pickupEnabled) input.pickupEnabled = pickup;
    if (Object.keys(input).length === 0) {
      return c.redirect(shopHref(scope, "/console/seller/settings", { done: "unchanged" }), 303);
    }
    try {
      await updateLocation(ctx, scope.user.id, scope.shop.id, id, input);
    } catch (err) {
      const { errors, status } = await formRefusal(c, err, [403, 409, 422]);
      const message = Object.values(errors)[0] ?? "";
      return settingsPage(c, scope, { errors: { form: `${before.code}: ${message}` }, status });
    }
    return c.redirect(shopHref(scope, "/console/seller/settings", { done: "location" }), 303);
  })
  .post("/seller/settings/payouts", async (c) => {
    const form = await formOf(c);
    const scope = await sellerScope(c, form.shop ?? "");
    if (!scope.shop) throw new NotFound("shop");
    const ctx = serviceContext(c);
    const link = await startPayoutOnboarding(ctx, ctx.stripe, scope.user.id, scope.shop.id);
    // Stripe's hosted onboarding; it sends the owner back to the API's return URL.
    return c.redirect(link.onboardingUrl, 303);
  });
