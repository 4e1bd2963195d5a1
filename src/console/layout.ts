import type { Context } from "hono";
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv, AuthUser } from "../http/context.ts";
import { viewerOf } from "./session.ts";

/** A piece of HTML built with hono's `html` tag: every interpolated value is escaped. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** The console's own files in public/ (the vendor scripts are copied by scripts/docs-assets.ts). */
const ASSETS = {
  css: "/console/console.css",
  htmx: "/console/vendor/htmx.js",
  alpine: "/console/vendor/alpine.js",
  uplot: "/console/vendor/uplot.js",
  uplotCss: "/console/vendor/uplot.css",
  /** Registers the Alpine components, so it runs before Alpine starts. */
  app: "/console/console.js",
} as const;

interface NavItem {
  href: string;
  label: string;
  /** A one-glyph icon for the bottom tab bar; hidden from screen readers. */
  icon: string;
}

function navFor(user: AuthUser | undefined): NavItem[] {
  const items: NavItem[] = [
    { href: "/console/products", label: "Browse", icon: "⌕" },
    { href: "/console/shops", label: "Shops", icon: "⌂" },
  ];
  if (user) {
    items.push(
      { href: "/console/cart", label: "Cart", icon: "◫" },
      { href: "/console/orders", label: "Orders", icon: "☰" },
      { href: "/console/notifications", label: "Inbox", icon: "✉" },
    );
  }
  // Each area's home has its own sub-navigation (inventory, analytics … / shops, users …).
  if (user?.role === "seller" || user?.role === "admin") {
    items.push({ href: "/console/seller", label: "Seller", icon: "▦" });
  }
  if (user?.role === "admin") {
    items.push({ href: "/console/admin", label: "Admin", icon: "✓" });
  }
  items.push(
    user
      ? { href: "/console/account", label: "Account", icon: "☺" }
      : { href: "/console/sign-in", label: "Sign in", icon: "→" },
  );
  return items;
}

function navLinks(items: NavItem[], current: string, withIcons: boolean): Html {
  return html`${items.map((item) => {
    const active = current === item.href || current.startsWith(`${item.href}/`);
    return html`<li><a href="${item.href}"${active ? html` aria-current="page"` : ""}>${
      withIcons ? html`<span class="icon" aria-hidden="true">${item.icon}</span>` : ""
    }<span>${item.label}</span></a></li>`;
  })}`;
}

export interface PageOptions {
  title: string;
  body: Html;
  status?: ContentfulStatusCode;
  /** Loads uPlot (script and styles) for the page's charts. */
  charts?: boolean;
}

/**
 * A whole page: skip link, top navigation (wide screens), the content, and a bottom tab bar
 * (small screens) with the same destinations. No inline script or style (the CSP forbids them).
 */
export function page(c: Context<AppEnv>, opts: PageOptions): Response | Promise<Response> {
  const user = viewerOf(c);
  const items = navFor(user);
  const current = c.req.path;
  return c.html(
    html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · Souk</title>
<link rel="stylesheet" href="${ASSETS.css}">
${opts.charts ? html`<link rel="stylesheet" href="${ASSETS.uplotCss}"><script src="${ASSETS.uplot}" defer></script>` : ""}
<script src="${ASSETS.htmx}" defer></script>
<script src="${ASSETS.app}" defer></script>
<script src="${ASSETS.alpine}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/console">Souk</a>
  <nav class="topnav" aria-label="Main"><ul>${navLinks(items, current, false)}</ul></nav>
  ${user ? html`<span class="who">Signed in as ${user.role}</span>` : ""}
</header>
<main id="main" tabindex="-1">
<h1>${opts.title}</h1>
${opts.body}
</main>
<nav class="tabbar" aria-label="Tabs"><ul>${navLinks(items, current, true)}</ul></nav>
</body>
</html>`,
    opts.status ?? 200,
  );
}

/** Whether htmx asked (it then wants only the fragment it swaps in). */
export function isPartial(c: Context<AppEnv>): boolean {
  return c.req.header("hx-request") === "true";
}

/** Field name → message, from a 422's `errors` (the same list the API's problem carries). */
export type FieldMessages = Record<string, string>;

/** A labelled input with its error (aria-invalid, aria-describedby) when it has one. */
export function field(opts: {
  name: string;
  label: string;
  type?: string;
  value?: string | number | null;
  errors?: FieldMessages;
  required?: boolean;
  autocomplete?: string;
  id?: string;
  extra?: Html;
}): Html {
  const id = opts.id ?? `f-${opts.name}`;
  const error = opts.errors?.[opts.name];
  return html`<div class="field">
  <label for="${id}">${opts.label}</label>
  <input id="${id}" name="${opts.name}" type="${opts.type ?? "text"}" value="${opts.value ?? ""}"${
    opts.required ? html` required` : ""
  }${opts.autocomplete ? html` autocomplete="${opts.autocomplete}"` : ""}${
    error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ""
  }${opts.extra ?? ""}>
  ${error ? html`<p class="error" id="${id}-error">${error}</p>` : ""}
</div>`;
}

/** A form-level message (a refusal that names no field), announced to screen readers. */
export function alert(message: string | null | undefined, kind: "error" | "ok" = "error"): Html {
  if (!message) return html``;
  return html`<p class="alert ${kind}" role="${kind === "error" ? "alert" : "status"}">${message}</p>`;
}

/** Minor units per major unit of `currency` (100 for EUR, 1 for JPY). */
export function minorPerMajor(currency: string): number {
  try {
    const format = new Intl.NumberFormat("en", { style: "currency", currency });
    return 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2);
  } catch {
    return 100;
  }
}

/** Money as its currency writes it, from integer minor units. */
export function money(minor: number, currency: string): string {
  try {
    const format = new Intl.NumberFormat("en", { style: "currency", currency });
    return format.format(minor / minorPerMajor(currency));
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}
