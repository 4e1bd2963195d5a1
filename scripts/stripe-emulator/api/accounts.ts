/**
 * Connect accounts and Account Links. A new account cannot take charges or payouts until its
 * onboarding is done; visiting the account link's URL (or the emulator helper) completes it,
 * as the seller filling Stripe's hosted form would, and emits `account.updated` as a Connect
 * event (with `account` set) to the Connect webhook endpoints.
 */
import {
  type ApiContext,
  type EmulatorCore,
  HELPER_REQUEST,
  isRecord,
  previousAttributes,
  type RequestInfo,
} from "../core.ts";
import { invalidParam, invalidRequest, resourceMissing } from "../errors.ts";
import type { FormObject, FormValue } from "../form.ts";
import { newId, unixNow } from "../ids.ts";
import { LIST_PARAMS, paginate } from "../list.ts";
import type {
  AccountLinkObject,
  AccountObject,
  CapabilityStatus,
  ListObject,
  Requirements,
} from "../objects.ts";
import {
  allowParams,
  applyMetadata,
  createdFilter,
  optEnum,
  optNullableString,
  optObject,
  optString,
  reqString,
} from "../params.ts";

/** How long an account link stays usable (Stripe: a few minutes, and once only). */
const LINK_TTL_SECONDS = 300;

const CURRENCY_BY_COUNTRY: Record<string, string> = {
  US: "usd",
  GB: "gbp",
  CA: "cad",
  AU: "aud",
  CH: "chf",
  MA: "mad",
  AE: "aed",
  JP: "jpy",
  SE: "sek",
  NO: "nok",
  DK: "dkk",
  PL: "pln",
};
const EURO = ["AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU"];
const EURO_MORE = ["LV", "MT", "NL", "PT", "SI", "SK"];

function defaultCurrency(country: string): string {
  if ([...EURO, ...EURO_MORE].includes(country)) return "eur";
  return CURRENCY_BY_COUNTRY[country] ?? "usd";
}

const DUE_BEFORE_ONBOARDING = [
  "business_profile.mcc",
  "business_profile.url",
  "business_type",
  "external_account",
  "representative.first_name",
  "representative.last_name",
  "tos_acceptance.date",
  "tos_acceptance.ip",
];

function requirements(onboarded: boolean): Requirements {
  const due = onboarded ? [] : [...DUE_BEFORE_ONBOARDING];
  return {
    alternatives: [],
    current_deadline: null,
    currently_due: due,
    disabled_reason: onboarded ? null : "requirements.past_due",
    errors: [],
    eventually_due: [...due],
    past_due: [...due],
    pending_verification: [],
  };
}

type AccountType = AccountObject["type"];

function typeFromController(controller: FormObject): AccountType {
  const dashboard = optObject(controller, "stripe_dashboard");
  const kind = dashboard ? optString(dashboard, "type") : undefined;
  if (kind === "express") return "express";
  if (kind === "none") return "custom";
  return "standard";
}

/** `capabilities[transfers][requested]=true` → `{ transfers: "inactive" }` (active once onboarded). */
function requestedCapabilities(
  value: FormValue | undefined,
  onboarded: boolean,
): Record<string, CapabilityStatus> {
  const out: Record<string, CapabilityStatus> = {};
  if (value === undefined || value === "") return out;
  if (!isRecord(value)) throw invalidParam("Invalid capabilities: must be a hash", "capabilities");
  for (const [name, spec] of Object.entries(value)) {
    if (!isRecord(spec) || typeof spec.requested !== "string") {
      throw invalidParam(
        `Invalid capabilities[${name}]: expected capabilities[${name}][requested]`,
        `capabilities[${name}]`,
      );
    }
    if (spec.requested === "true") out[name] = onboarded ? "active" : "inactive";
  }
  return out;
}

function mergeProfile(current: Record<string, unknown>, value: FormObject | undefined) {
  return value ? { ...current, ...structuredClone(value) } : current;
}

export function createAccount(ctx: ApiContext): AccountObject {
  if (ctx.account) {
    throw invalidRequest("Connected accounts cannot create other accounts.", { status: 400 });
  }
  return createAccountIn(ctx.core, ctx.params);
}

/** An onboarding-pending Express account, for the emulator's `trigger` helper. */
export function createExpressAccount(core: EmulatorCore): AccountObject {
  return createAccountIn(core, {
    type: "express",
    country: "US",
    email: "triggered-seller@example.com",
    metadata: { triggered_by: "emulator" },
  });
}

function createAccountIn(core: EmulatorCore, p: FormObject): AccountObject {
  allowParams(p, [
    "type",
    "controller",
    "country",
    "email",
    "capabilities",
    "metadata",
    "business_type",
    "business_profile",
    "default_currency",
    "settings",
    "tos_acceptance",
    "individual",
    "company",
    "external_account",
    "account_token",
    "documents",
    "groups",
  ]);
  const controller = optObject(p, "controller");
  const type =
    optEnum(p, "type", ["standard", "express", "custom"] as const) ??
    (controller ? typeFromController(controller) : undefined);
  if (!type) {
    throw invalidParam(
      "You must provide either `type` or `controller` to create an account.",
      "type",
      "parameter_missing",
    );
  }
  const country = (optString(p, "country") ?? "US").toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) throw invalidParam(`Invalid country: ${country}`, "country");
  let capabilities = requestedCapabilities(p.capabilities, false);
  if (Object.keys(capabilities).length === 0) {
    if (type === "custom") {
      throw invalidParam(
        "You must request at least one capability for a custom account: capabilities[transfers][requested]=true.",
        "capabilities",
        "parameter_missing",
      );
    }
    // Standard and Express accounts get the usual marketplace pair when none is named.
    capabilities = { card_payments: "inactive", transfers: "inactive" };
  }
  const id = newId("acct", 16);
  const account: AccountObject = {
    id,
    object: "account",
    business_profile: mergeProfile(
      { mcc: null, name: null, product_description: null, support_email: null, url: null },
      optObject(p, "business_profile"),
    ),
    business_type: optString(p, "business_type") ?? null,
    capabilities,
    charges_enabled: false,
    controller: {
      type: "application",
      is_controller: true,
      stripe_dashboard: {
        type: type === "express" ? "express" : type === "custom" ? "none" : "full",
      },
    },
    country,
    created: unixNow(),
    default_currency: (optString(p, "default_currency") ?? defaultCurrency(country)).toLowerCase(),
    details_submitted: false,
    email: optString(p, "email") ?? null,
    external_accounts: {
      object: "list",
      data: [],
      has_more: false,
      total_count: 0,
      url: `/v1/accounts/${id}/external_accounts`,
    },
    future_requirements: requirements(true),
    metadata: applyMetadata(p),
    payouts_enabled: false,
    requirements: requirements(false),
    settings: { payouts: { schedule: { interval: "daily", delay_days: 2 } } },
    tos_acceptance: { date: null },
    type,
  };
  return core.state.accounts.add(account, null);
}

/** The account a request may see: any of the platform's, or (with Stripe-Account) itself. */
function visibleAccount(ctx: ApiContext, id: string): AccountObject {
  const account = ctx.core.state.accounts.get(id, null);
  if (!account || (ctx.account !== null && ctx.account !== id)) {
    throw resourceMissing("account", id, "account");
  }
  return account;
}

export function retrieveAccount(ctx: ApiContext): AccountObject {
  allowParams(ctx.params, []);
  return visibleAccount(ctx, ctx.path.id ?? "");
}

/** `GET /v1/account`: the connected account named by Stripe-Account, or the platform itself. */
export function retrieveCurrentAccount(ctx: ApiContext): unknown {
  allowParams(ctx.params, []);
  if (ctx.account) return visibleAccount(ctx, ctx.account);
  return {
    id: "acct_emulatorplatform",
    object: "account",
    business_profile: { name: "Souk (Stripe emulator platform)" },
    charges_enabled: true,
    country: "US",
    default_currency: "usd",
    details_submitted: true,
    email: null,
    payouts_enabled: true,
    type: "standard",
  };
}

export function updateAccount(ctx: ApiContext): AccountObject {
  const p = ctx.params;
  allowParams(p, [
    "email",
    "metadata",
    "business_profile",
    "business_type",
    "capabilities",
    "default_currency",
    "settings",
    "tos_acceptance",
    "individual",
    "company",
    "external_account",
    "account_token",
    "documents",
    "groups",
  ]);
  const account = visibleAccount(ctx, ctx.path.id ?? "");
  const before = structuredClone(account);
  const email = optNullableString(p, "email");
  if (email !== undefined) account.email = email;
  account.metadata = applyMetadata(p, account.metadata);
  account.business_profile = mergeProfile(
    account.business_profile,
    optObject(p, "business_profile"),
  );
  const businessType = optNullableString(p, "business_type");
  if (businessType !== undefined) account.business_type = businessType;
  const currency = optString(p, "default_currency");
  if (currency) account.default_currency = currency.toLowerCase();
  const added = requestedCapabilities(p.capabilities, account.details_submitted);
  account.capabilities = { ...account.capabilities, ...added };
  emitAccountUpdated(ctx.core, account, before, ctx.request);
  return account;
}

export function deleteAccount(ctx: ApiContext): { id: string; object: "account"; deleted: true } {
  allowParams(ctx.params, []);
  const account = visibleAccount(ctx, ctx.path.id ?? "");
  ctx.core.state.accounts.delete(account.id);
  return { id: account.id, object: "account", deleted: true };
}

export function listAccounts(ctx: ApiContext): ListObject<AccountObject> {
  allowParams(ctx.params, [...LIST_PARAMS]);
  const inRange = createdFilter(ctx.params);
  const items = ctx.core.state.accounts.list(null, (a) => inRange(a.created));
  return paginate(items, ctx.params, "/v1/accounts");
}

function emitAccountUpdated(
  core: EmulatorCore,
  account: AccountObject,
  before: AccountObject,
  request: RequestInfo,
): void {
  const previous = previousAttributes(
    before as unknown as Record<string, unknown>,
    account as unknown as Record<string, unknown>,
  );
  if (Object.keys(previous).length === 0) return;
  core.emit({
    type: "account.updated",
    object: account,
    account: account.id,
    previousAttributes: previous,
    request,
  });
}

/** The seller finished Stripe's onboarding: everything submitted, charges and payouts on. */
export function completeOnboarding(core: EmulatorCore, accountId: string): AccountObject {
  const account = core.state.accounts.require(accountId, null, "account");
  const before = structuredClone(account);
  account.details_submitted = true;
  account.charges_enabled = true;
  account.payouts_enabled = true;
  account.requirements = requirements(true);
  account.tos_acceptance = { date: account.tos_acceptance.date ?? unixNow() };
  account.capabilities = Object.fromEntries(
    Object.keys(account.capabilities).map((k) => [k, "active" as const]),
  );
  emitAccountUpdated(core, account, before, HELPER_REQUEST);
  return account;
}

/**
 * Test helper: Stripe disables the account (requirements past due, a verification failed):
 * charges and payouts off, capabilities inactive, `account.updated` emitted.
 */
export function disableAccount(
  core: EmulatorCore,
  accountId: string,
  reason = "requirements.past_due",
): AccountObject {
  const account = core.state.accounts.require(accountId, null, "account");
  const before = structuredClone(account);
  account.charges_enabled = false;
  account.payouts_enabled = false;
  account.requirements = { ...requirements(false), disabled_reason: reason };
  account.capabilities = Object.fromEntries(
    Object.keys(account.capabilities).map((k) => [k, "inactive" as const]),
  );
  emitAccountUpdated(core, account, before, HELPER_REQUEST);
  return account;
}

export function createAccountLink(ctx: ApiContext): AccountLinkObject {
  const p = ctx.params;
  allowParams(p, ["account", "refresh_url", "return_url", "type", "collect", "collection_options"]);
  const accountId = reqString(p, "account");
  const type = optEnum(p, "type", ["account_onboarding", "account_update"] as const);
  if (!type) throw invalidParam("Missing required param: type.", "type", "parameter_missing");
  const refreshUrl = optString(p, "refresh_url") ?? null;
  const returnUrl = optString(p, "return_url") ?? null;
  for (const [name, url] of [
    ["refresh_url", refreshUrl],
    ["return_url", returnUrl],
  ] as const) {
    if (url !== null && !URL.canParse(url))
      throw invalidParam(`Not a valid URL`, name, "url_invalid");
  }
  const account = ctx.core.state.accounts.get(accountId, null);
  if (!account) {
    throw invalidRequest(`No such account: '${accountId}'`, {
      code: "resource_missing",
      param: "account",
      status: 404,
    });
  }
  if (type === "account_update" && account.type !== "custom") {
    throw invalidParam(
      "You cannot create `account_update` type Account Links for this account type; use `account_onboarding`.",
      "type",
    );
  }
  const created = unixNow();
  const token = newId("link", 24).slice("link_".length);
  ctx.core.state.accountLinks.set(token, {
    token,
    account: account.id,
    type,
    refreshUrl,
    returnUrl,
    expiresAt: created + LINK_TTL_SECONDS,
    used: false,
  });
  return {
    object: "account_link",
    created,
    expires_at: created + LINK_TTL_SECONDS,
    url: `${ctx.core.baseUrl}/connect/onboard/${account.id}?link=${token}`,
  };
}

export type OnboardingVisit =
  | { kind: "completed"; account: AccountObject; redirect: string | null }
  | { kind: "refresh"; redirect: string | null; reason: string };

/**
 * A browser opens an account link. A fresh link completes onboarding and sends the seller to
 * `return_url`; an expired or already used one sends them to `refresh_url` (Stripe's rule:
 * the platform then makes a new link). `?action=refresh` plays a seller who gave up.
 */
export function visitAccountLink(
  core: EmulatorCore,
  accountId: string,
  token: string | null,
  action: string | null,
): OnboardingVisit {
  const link = token ? core.state.accountLinks.get(token) : undefined;
  if (!link || link.account !== accountId) {
    return { kind: "refresh", redirect: null, reason: "unknown account link" };
  }
  if (link.used || link.expiresAt < unixNow() || action === "refresh") {
    const reason = link.used
      ? "link already used"
      : action === "refresh"
        ? "seller left"
        : "link expired";
    link.used = true;
    return { kind: "refresh", redirect: link.refreshUrl, reason };
  }
  link.used = true;
  const account = completeOnboarding(core, accountId);
  return { kind: "completed", account, redirect: link.returnUrl };
}
