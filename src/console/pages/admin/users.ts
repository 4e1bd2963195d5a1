import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { AppEnv } from "../../../http/context.ts";
import { text } from "../../../lib/text.ts";
import { type AdminUserListItem, listUsersForAdmin } from "../../../services/admin/users.ts";
import {
  type AdminUserView,
  blockUser,
  getUserForAdmin,
  unblockUser,
} from "../../../services/users/moderation.ts";
import { alert, type Html } from "../../layout.ts";
import { type FormState, filteredList, queryOf, recordPages, textarea, when } from "./ui.ts";

const BASE = "/console/admin/users";
const ROLES = ["buyer", "seller", "admin"] as const;
const DONE = { blocked: "The user is blocked.", unblocked: "The block is lifted." };

function blockBadge(blocked: boolean): Html {
  return blocked ? html`<span class="badge rejected">blocked</span>` : html``;
}

function row(u: AdminUserListItem): Html {
  return html`<tr>
  <th scope="row"><a href="${BASE}/${u.id}">${u.displayName}</a><span class="muted block">${u.email}</span></th>
  <td>${u.role} ${blockBadge(u.blocked)}</td>
  <td class="num">${u.strikeCount}</td>
  <td>${when(u.createdAt)}</td>
</tr>`;
}

function detail(u: AdminUserView, state: FormState): Html {
  return html`<div class="stack"><p><a href="${BASE}">All users</a></p>
<article class="card" aria-labelledby="user-title">
  <h2 id="user-title">${u.displayName} ${blockBadge(u.blocked)}</h2>
  <dl class="facts">
    <dt>Email</dt><dd>${u.email}</dd>
    <dt>Role</dt><dd>${u.role}</dd>
    <dt>Joined</dt><dd>${when(u.createdAt)}</dd>
    ${u.deletedAt ? html`<dt>Deleted</dt><dd>${when(u.deletedAt)}</dd>` : ""}
    ${u.blocked ? html`<dt>Blocked</dt><dd>${when(u.blockedAt)}: ${u.blockedReason ?? ""}</dd>` : ""}
    <dt>Strikes</dt><dd>${u.strikes.length} (${u.strikesWithinYear} in the last 12 months; two block bidding and buying)</dd>
  </dl>
  <p><a href="/console/admin/orders?${queryOf({ buyerId: u.id })}">Their orders</a> ·
  <a href="/console/admin/audit?${queryOf({ actorId: u.id })}">What they changed</a></p>
</article>
${
  u.strikes.length > 0
    ? html`<h2>Strikes</h2>
<div class="table-wrap"><table class="grid-table">
<caption class="sr-only">Unpaid auction wins</caption>
<thead><tr><th scope="col">When</th><th scope="col">Reason</th><th scope="col">Order</th></tr></thead>
<tbody>${u.strikes.map(
        (s) => html`<tr><th scope="row">${when(s.at)}</th><td>${s.reason}</td>
<td><a href="/console/admin/audit?${queryOf({ entityType: "order", entityId: s.orderId })}">${s.orderId}</a></td></tr>`,
      )}</tbody></table></div>`
    : ""
}
${state.notice ?? ""}${alert(state.message)}
${
  u.blocked
    ? html`<form method="post" action="${BASE}/${u.id}/unblock" class="card" aria-labelledby="unblock-title">
  <h2 id="unblock-title">Lift the block</h2>
  ${textarea({ id: "f-reason", name: "reason", label: "Reason (optional)", value: state.values?.reason, errors: state.errors })}
  <button type="submit">Unblock</button>
</form>`
    : html`<form method="post" action="${BASE}/${u.id}/block" class="card" aria-labelledby="block-title">
  <h2 id="block-title">Block</h2>
  <p class="hint">They may still sign in, read, pay what they owe and answer messages; every session signs in again.</p>
  ${textarea({ id: "f-reason", name: "reason", label: "Reason the user is told", value: state.values?.reason, errors: state.errors, required: true })}
  <button type="submit" class="danger">Block user</button>
</form>`
}</div>`;
}

const user = recordPages({
  what: "user",
  title: "User",
  base: BASE,
  done: DONE,
  load: getUserForAdmin,
  render: (_c, record, state) => detail(record, state),
});

/** Users: search, one user with their strikes, block and unblock (the moderation service). */
export const adminUserPages = new Hono<AppEnv>()
  .get("/admin/users", (c) =>
    filteredList(c, {
      title: "Users",
      path: BASE,
      filters: [
        { name: "q", label: "Email or name" },
        { name: "role", label: "Role", options: ROLES },
        { name: "blocked", label: "Blocked", options: ["yes", "no"] },
      ],
      schema: z.object({
        q: text().trim().min(1).max(200).optional(),
        role: z.enum(ROLES).optional(),
        blocked: z.enum(["yes", "no"]).optional(),
      }),
      load: (ctx, { blocked, ...q }, p) =>
        listUsersForAdmin(ctx, {
          ...q,
          ...p,
          blocked: blocked === undefined ? undefined : blocked === "yes",
        }),
      empty: "No users match.",
      render: (items) => html`<div class="table-wrap"><table class="grid-table">
<caption class="sr-only">Users, newest first</caption>
<thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col" class="num">Strikes</th><th scope="col">Joined</th></tr></thead>
<tbody>${items.map(row)}</tbody></table></div>`,
    }),
  )
  .get("/admin/users/:id", user.show)
  .post(
    "/admin/users/:id/block",
    user.decide("blocked", (ctx, id, form) => blockUser(ctx, id, { reason: form.reason ?? "" })),
  )
  .post(
    "/admin/users/:id/unblock",
    user.decide("unblocked", (ctx, id, form) =>
      // A blank reason is no reason, as the API's body without one.
      unblockUser(ctx, id, form.reason?.trim() ? { reason: form.reason } : {}),
    ),
  );
