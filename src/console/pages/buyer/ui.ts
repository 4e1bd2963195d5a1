import type { Context } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { AppEnv, AuthUser } from "../../../http/context.ts";
import { NotFound, Unauthenticated } from "../../../services/errors.ts";
import type { Html } from "../../layout.ts";
import { viewerOf } from "../../session.ts";

/** The buyer's own pages beside the top navigation's Cart, Orders and Inbox. */
const SECTIONS = [
  { href: "/console/cart", label: "Cart" },
  { href: "/console/wishlist", label: "Wishlist" },
  { href: "/console/messages", label: "Messages" },
  { href: "/console/notifications", label: "Notifications" },
] as const;

/** The buyer's sub-navigation; the section the page belongs to is marked current. */
export function buyerTabs(c: Context<AppEnv>): Html {
  const path = c.req.path;
  return html`<nav aria-label="Buyer" class="tabs"><ul>${SECTIONS.map((s) => {
    const here = path === s.href || path.startsWith(`${s.href}/`);
    return html`<li><a href="${s.href}"${here ? html` aria-current="page"` : ""}>${s.label}</a></li>`;
  })}</ul></nav>`;
}

/** The signed-in viewer (the area's `requireViewer` has let only them through). */
export function signedIn(c: Context<AppEnv>): AuthUser {
  const user = viewerOf(c);
  if (!user) throw new Unauthenticated("Sign in first.");
  return user;
}

const uuid = z.uuid();

/** A path parameter that must be an id; anything else is the 404 the API would answer. */
export function idParam(c: Context<AppEnv>, name: string, entity: string): string {
  const value = c.req.param(name) ?? "";
  if (!uuid.safeParse(value).success) throw new NotFound(entity, value);
  return value;
}

/** A posted form as text fields (a file where text was expected reads as blank). */
export async function formOf(c: Context<AppEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  return Object.fromEntries(
    Object.entries(body).map(([k, v]) => [k, typeof v === "string" ? v : ""]),
  );
}

/** "2026-12-03 14:05 UTC" from an ISO time. */
export const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
