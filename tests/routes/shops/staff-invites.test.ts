import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { shopInvitations, shopMembers } from "../../../src/db/schema/index.ts";
import { sha256Hex } from "../../../src/lib/hash.ts";
import { auditRows } from "../../helpers/audit.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { api, type Problem, uniqueEmail } from "../../helpers/http.ts";
import { waitForMail } from "../../helpers/shop-support.ts";
import { seedMember, seedShop } from "../../helpers/shops.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";
import { answer, invitationToken, invite } from "./invitations.ts";

const hasRedis = Boolean(env.UPSTASH_REDIS_REST_URL);

interface Pending {
  id: string;
  email: string;
  role: string;
  invitedBy: string;
  expiresAt: string;
}

const pending = (by: TestUser, shopId: string) =>
  api<{ items: Pending[] } & Problem>("GET", `/v1/shops/${shopId}/staff/invitations`, {
    token: by.accessToken,
  });
const revoke = (by: TestUser, shopId: string, invitationId: string) =>
  api<Problem>("DELETE", `/v1/shops/${shopId}/staff/invitations/${invitationId}`, {
    token: by.accessToken,
  });
const members = (shopId: string) =>
  withDb((db) => db.select().from(shopMembers).where(eq(shopMembers.shopId, shopId)));
/** Registers an account for a given address (registerUser picks its own). */
async function registerAs(email: string): Promise<TestUser> {
  const password = "correct horse battery staple";
  const res = await api<{
    user: { id: string };
    session: { accessToken: string; refreshToken: string };
  }>("POST", "/v1/auth/register", {
    body: { email, password, displayName: "Late joiner", role: "buyer" },
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, email, password, role: "buyer", ...res.body.session };
}

describe("staff invitations", () => {
  it("answers the same 202 whether or not an account uses the email", async () => {
    const shop = await seedShop({ status: "pending" });
    const user = await registerUser("buyer");
    const known = await invite(shop.owner, shop.id, { email: user.email, role: "staff" });
    const unknown = await invite(shop.owner, shop.id, {
      email: uniqueEmail("nobody"),
      role: "staff",
    });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(Object.keys(known.body).sort()).toEqual(Object.keys(unknown.body).sort());
    expect(Object.keys(known.body).sort()).toEqual(["expiresAt", "id", "role", "sentTo"]);
    expect(known.body.sentTo).toBe(`${user.email[0]}***@example.test`);
    expect(JSON.stringify(known.body)).not.toContain(user.id);
  });

  it("adds nobody before the invitee accepts", async () => {
    const shop = await seedShop({ status: "pending" });
    const user = await registerUser("buyer");
    expect((await invite(shop.owner, shop.id, { email: user.email, role: "manager" })).status).toBe(
      202,
    );
    expect((await members(shop.id)).map((m) => m.userId)).toEqual([shop.owner.id]);
    expect((await api("GET", `/v1/shops/${shop.id}`, { token: user.accessToken })).status).toBe(
      404,
    );
    expect(await auditRows(shop.id, { action: "shop.member.added" })).toHaveLength(0);
  });

  it("emails a 7-day single-use token to the address and stores only its SHA-256", async () => {
    const shop = await seedShop({ status: "pending" });
    const email = uniqueEmail("invitee");
    const sent = await invite(shop.owner, shop.id, { email: email.toUpperCase(), role: "staff" });
    expect(sent.status).toBe(202);
    const token = await invitationToken(email);
    const [row] = await withDb((db) =>
      db.select().from(shopInvitations).where(eq(shopInvitations.id, sent.body.id)),
    );
    expect(row?.email).toBe(email);
    expect(row?.tokenHash).toBe(await sha256Hex(token));
    expect(JSON.stringify(row)).not.toContain(token);
    const days = ((row?.expiresAt.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    const created = await auditRows(shop.id, { action: "shop.invitation.created" });
    expect(created).toHaveLength(1);
    expect(JSON.stringify(created[0])).not.toContain(token);
  });

  it("lets the invitee, signed in with that email, join with the invited role, audited", async () => {
    const shop = await seedShop({ status: "pending" });
    const user = await registerUser("buyer");
    const sent = await invite(shop.owner, shop.id, { email: user.email, role: "manager" });
    const joined = await answer(user, await invitationToken(user.email));
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({ shopId: shop.id, role: "manager" });
    const seen = await api<{ myRole: string }>("GET", `/v1/shops/${shop.id}`, {
      token: user.accessToken,
    });
    expect(seen.body.myRole).toBe("manager");
    const added = await auditRows(shop.id, { action: "shop.member.added" });
    expect(added).toHaveLength(1);
    expect(added[0]?.actorId).toBe(user.id);
    expect(added[0]?.newValue).toEqual({
      userId: user.id,
      role: "manager",
      invitationId: sent.body.id,
    });
    const told = await eventually(async () => {
      const res = await api<{ items: Array<{ kind: string }> }>("GET", "/v1/notifications", {
        token: shop.owner.accessToken,
      });
      return res.body.items.find((n) => n.kind === "shop.invitation.accepted");
    });
    expect(told).toBeDefined();
  });

  it("lets an address with no account yet register and then accept", async () => {
    const shop = await seedShop({ status: "pending" });
    const email = uniqueEmail("newcomer");
    expect((await invite(shop.owner, shop.id, { email, role: "staff" })).status).toBe(202);
    const token = await invitationToken(email);
    const user = await registerAs(email);
    const joined = await answer(user, token);
    expect(joined.status).toBe(200);
    expect(joined.body.role).toBe("staff");
  });

  it("refuses another account with the same 404 as an unknown token; the addressee still can", async () => {
    const shop = await seedShop({ status: "pending" });
    const invitee = await registerUser("buyer");
    const other = await registerUser("buyer");
    await invite(shop.owner, shop.id, { email: invitee.email, role: "staff" });
    const token = await invitationToken(invitee.email);
    const wrong = await answer(other, token);
    const made = await answer(other, "A".repeat(43));
    expect(wrong.status).toBe(404);
    expect(made.status).toBe(404);
    expect({ ...wrong.body, instance: "", requestId: "" }).toEqual({
      ...made.body,
      instance: "",
      requestId: "",
    });
    expect(JSON.stringify(wrong.body)).not.toContain(shop.id);
    expect((await members(shop.id)).map((m) => m.userId)).toEqual([shop.owner.id]);
    expect((await answer(invitee, token)).status).toBe(200);
  });

  it("refuses a token once used (409)", async () => {
    const shop = await seedShop({ status: "pending" });
    const user = await registerUser("buyer");
    await invite(shop.owner, shop.id, { email: user.email, role: "staff" });
    const token = await invitationToken(user.email);
    expect((await answer(user, token)).status).toBe(200);
    const again = await answer(user, token);
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/already been accepted/);
  });

  it("refuses an expired token (409) and adds nobody", async () => {
    const shop = await seedShop({ status: "pending" });
    const user = await registerUser("buyer");
    const sent = await invite(shop.owner, shop.id, { email: user.email, role: "staff" });
    const token = await invitationToken(user.email);
    await withDb((db) =>
      db
        .update(shopInvitations)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(shopInvitations.id, sent.body.id)),
    );
    const res = await answer(user, token);
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/expired/);
    expect(await members(shop.id)).toHaveLength(1);
    expect((await pending(shop.owner, shop.id)).body.items).toEqual([]);
  });

  it("lists pending invitations and revokes one, audited; its token then answers 409", async () => {
    const shop = await seedShop({ status: "pending" });
    const user = await registerUser("buyer");
    const sent = await invite(shop.owner, shop.id, { email: user.email, role: "manager" });
    const token = await invitationToken(user.email);
    const list = await pending(shop.owner, shop.id);
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({
        id: sent.body.id,
        email: user.email,
        role: "manager",
        invitedBy: shop.owner.id,
      }),
    ]);
    expect((await revoke(shop.owner, shop.id, sent.body.id)).status).toBe(204);
    expect((await pending(shop.owner, shop.id)).body.items).toEqual([]);
    const revoked = await auditRows(shop.id, { action: "shop.invitation.revoked" });
    expect(revoked).toHaveLength(1);
    expect(revoked[0]?.oldValue).toMatchObject({ invitationId: sent.body.id });
    const res = await answer(user, token);
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/revoked/);
    expect((await revoke(shop.owner, shop.id, sent.body.id)).status).toBe(409);
  });

  it("replaces the pending invitation when the same email is invited again", async () => {
    const shop = await seedShop({ status: "pending" });
    const user = await registerUser("buyer");
    await invite(shop.owner, shop.id, { email: user.email, role: "staff" });
    const first = await waitForMail(user.email);
    const second = await invite(shop.owner, shop.id, { email: user.email, role: "manager" });
    expect(second.status).toBe(202);
    const newToken = await invitationToken(user.email, first.text);
    const list = await pending(shop.owner, shop.id);
    expect(list.body.items.map((i) => [i.id, i.role])).toEqual([[second.body.id, "manager"]]);
    const oldToken = /Invitation token: ([A-Za-z0-9_-]{43})/.exec(first.text)?.[1] ?? "";
    expect((await answer(user, oldToken)).status).toBe(409);
    const joined = await answer(user, newToken);
    expect(joined.status).toBe(200);
    expect(joined.body.role).toBe("manager");
  });

  it("lets the invitee decline, audited: nobody joins and the token stops working", async () => {
    const shop = await seedShop({ status: "pending" });
    const user = await registerUser("buyer");
    await invite(shop.owner, shop.id, { email: user.email, role: "staff" });
    const token = await invitationToken(user.email);
    expect((await answer(user, token, "decline")).status).toBe(204);
    expect(await auditRows(shop.id, { action: "shop.invitation.declined" })).toHaveLength(1);
    expect((await answer(user, token)).status).toBe(409);
    expect(await members(shop.id)).toHaveLength(1);
  });

  it("answers 409 for an email already on the team, the owner's own included", async () => {
    const shop = await seedShop({ status: "pending" });
    const member = await registerUser("buyer");
    await seedMember(shop.id, member, "staff");
    const twice = await invite(shop.owner, shop.id, { email: member.email, role: "manager" });
    expect(twice.status).toBe(409);
    const self = await invite(shop.owner, shop.id, { email: shop.owner.email, role: "staff" });
    expect(self.status).toBe(409);
    expect((await pending(shop.owner, shop.id)).body.items).toEqual([]);
  });

  it("lets only the owner list and revoke invitations (403 to the team, 404 to strangers)", async () => {
    const shop = await seedShop({ status: "approved" });
    const manager = await registerUser("seller");
    await seedMember(shop.id, manager, "manager");
    const stranger = await registerUser("seller");
    const sent = await invite(shop.owner, shop.id, { email: uniqueEmail("x"), role: "staff" });
    expect((await pending(manager, shop.id)).status).toBe(403);
    expect((await pending(stranger, shop.id)).status).toBe(404);
    expect((await revoke(manager, shop.id, sent.body.id)).status).toBe(403);
    expect((await revoke(stranger, shop.id, sent.body.id)).status).toBe(404);
    const other = await seedShop({ status: "approved" });
    expect((await revoke(other.owner, other.id, sent.body.id)).status).toBe(404);
    expect((await pending(shop.owner, shop.id)).body.items).toHaveLength(1);
  });

  it("names a malformed token with 422", async () => {
    const user = await registerUser("buyer");
    const res = await answer(user, "not-a-token");
    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]).toMatchObject({ field: "token", in: "body" });
  });
});

describe.skipIf(!hasRedis)("staff invitation limits", () => {
  it("takes 10 invitations an hour per shop, then 429 naming staff.invite.shop", async () => {
    const shop = await seedShop({ status: "pending" });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof invite>> | undefined;
    for (let i = 0; i < 11; i++) {
      last = await invite(shop.owner, shop.id, { email: uniqueEmail("burst"), role: "staff" });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([...Array(10).fill(202), 429]);
    if (!last) throw new Error("no answer");
    expect(last.body.code).toBe("RATE_LIMITED");
    expect(last.body.limit).toBe("staff.invite.shop");
    expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await pending(shop.owner, shop.id)).body.items).toHaveLength(10);
  });

  it("takes 20 invitations an hour per inviter over all shops, then 429 naming staff.invite.user", async () => {
    const a = await seedShop({ status: "pending" });
    const b = await seedShop({ status: "pending" }, a.owner);
    const c = await seedShop({ status: "pending" }, a.owner);
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof invite>> | undefined;
    for (const [shop, times] of [
      [a, 10],
      [b, 10],
      [c, 1],
    ] as const) {
      for (let i = 0; i < times; i++) {
        last = await invite(a.owner, shop.id, { email: uniqueEmail("many"), role: "staff" });
        statuses.push(last.status);
      }
    }
    expect(statuses).toEqual([...Array(20).fill(202), 429]);
    expect(last?.body.limit).toBe("staff.invite.user");
  });
});
