import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { AppEnv } from "../../../http/context.ts";
import { serviceContext } from "../../../http/service-context.ts";
import { parseOr422 } from "../../../lib/input.ts";
import { NotFound } from "../../../services/errors.ts";
import {
  inviteStaff,
  inviteStaffInput,
  listInvitations,
  revokeInvitation,
} from "../../../services/shops/invitations.ts";
import { listStaff, removeStaff } from "../../../services/shops/staff.ts";
import { alert, field, page } from "../../layout.ts";
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
  when,
} from "./shell.ts";

const TEAM = 100;
const uuid = z.uuid();

const DONE = {
  invited: "Invitation sent; it is good for 7 days.",
  revoked: "Invitation revoked.",
  removed: "Removed from the team.",
} as const;

async function teamPage(
  c: Context<AppEnv>,
  scope: SellerScope,
  state: FormState = {},
): Promise<Response> {
  const nav = sellerNav(scope, "/console/seller/team");
  if (!scope.shop) return page(c, { title: "Team", body: html`${nav}${NO_SHOP}` });
  const ctx = serviceContext(c);
  const shopId = scope.shop.id;
  const manages = may(scope, "team.manage");
  const [members, invitations] = await Promise.all([
    listStaff(ctx, scope.user.id, shopId, { limit: TEAM }),
    manages ? listInvitations(ctx, scope.user.id, shopId, { limit: TEAM }) : null,
  ]);
  const errors = state.errors ?? {};
  const typed = state.typed ?? {};
  const hidden = html`<input type="hidden" name="shop" value="${shopId}">`;
  return page(c, {
    title: `Team · ${scope.shop.name}`,
    status: state.status,
    body: html`${nav}${alert(flash(c, DONE), "ok")}${alert(errors.form)}
<div class="table-wrap"><table class="grid-table" id="members">
<caption>Members</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Since</th>${manages ? html`<th scope="col">Remove</th>` : ""}</tr></thead>
<tbody>${members.items.map(
      (m) =>
        html`<tr><th scope="row">${m.displayName}<span class="muted block">${m.email}</span></th><td>${m.role}</td><td>${when(m.addedAt)}</td>${
          manages
            ? html`<td>${
                m.role === "owner"
                  ? ""
                  : html`<form method="post" action="/console/seller/team/members/${m.userId}/remove">${hidden}
  <button type="submit" class="danger">Remove<span class="sr-only"> ${m.displayName}</span></button></form>`
              }</td>`
            : ""
        }</tr>`,
    )}</tbody></table></div>
${
  invitations
    ? html`<h2>Invitations waiting</h2>
${
  invitations.items.length === 0
    ? html`<p>None.</p>`
    : html`<ul id="invitations">${invitations.items.map(
        (i) => html`<li>${i.email} as ${i.role}, until ${when(i.expiresAt)}
<form method="post" action="/console/seller/team/invitations/${i.id}/revoke" class="inline">${hidden}
  <button type="submit" class="secondary">Revoke<span class="sr-only"> the invitation of ${i.email}</span></button></form></li>`,
      )}</ul>`
}
<form method="post" action="/console/seller/team/invitations" class="card stack narrow" aria-labelledby="h-invite">
  <h2 id="h-invite">Invite someone</h2>${hidden}
  ${field({ name: "email", label: "Email", type: "email", value: typed.email, errors, required: true })}
  <div class="field"><label for="f-role">Role</label>
  <select id="f-role" name="role">${(["staff", "manager"] as const).map(
    (r) => html`<option value="${r}"${typed.role === r ? html` selected` : ""}>${r}</option>`,
  )}</select></div>
  <p class="hint">Staff pick and hand over orders and ask for stock changes; managers also change stock, ship, and see the figures.</p>
  <button type="submit">Send invitation</button>
</form>`
    : html`<p>Only the shop's owner invites and removes members.</p>`
}`,
  });
}

/** Runs a team change; a refusal (422, 409, 429) is shown on the team page. */
async function change(
  c: Context<AppEnv>,
  done: keyof typeof DONE,
  run: (
    scope: SellerScope & { shop: NonNullable<SellerScope["shop"]> },
    form: Record<string, string>,
  ) => Promise<unknown>,
): Promise<Response> {
  const form = await formOf(c);
  const scope = await sellerScope(c, form.shop ?? "");
  if (!scope.shop) throw new NotFound("shop");
  try {
    await run({ ...scope, shop: scope.shop }, form);
  } catch (err) {
    const refused = await formRefusal(c, err, [409, 422, 429]);
    return teamPage(c, scope, { ...refused, typed: form });
  }
  return c.redirect(shopHref(scope, "/console/seller/team", { done }), 303);
}

/**
 * `/console/seller/team`: the shop's members (any member sees them) and, for the owner,
 * invitations by email (manager or staff), revoking one, and removing a member; the staff and
 * invitation services check every step.
 */
export const sellerTeamPages = new Hono<AppEnv>()
  .get("/seller/team", async (c) => teamPage(c, await sellerScope(c)))
  .post("/seller/team/invitations", (c) =>
    change(c, "invited", (scope, form) =>
      inviteStaff(
        serviceContext(c),
        scope.user.id,
        scope.shop.id,
        parseOr422(inviteStaffInput, { email: form.email ?? "", role: form.role ?? "" }),
      ),
    ),
  )
  .post("/seller/team/invitations/:id/revoke", (c) => {
    const id = c.req.param("id");
    if (!uuid.safeParse(id).success) throw new NotFound("invitation", id);
    return change(c, "revoked", (scope) =>
      revokeInvitation(serviceContext(c), scope.user.id, scope.shop.id, id),
    );
  })
  .post("/seller/team/members/:id/remove", (c) => {
    const id = c.req.param("id");
    if (!uuid.safeParse(id).success) throw new NotFound("member", id);
    return change(c, "removed", (scope) =>
      removeStaff(serviceContext(c), scope.user.id, scope.shop.id, id),
    );
  });
