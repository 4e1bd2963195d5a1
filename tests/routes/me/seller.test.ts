import { describe, expect, it } from "vitest";
import { auditRows } from "../../helpers/audit.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { shopBody } from "../../helpers/shop-support.ts";
import { createAdmin } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface SellerResult {
  user: { id: string; role: string };
  session: { accessToken: string; refreshToken: string };
}

const becomeSeller = (token: string) =>
  api<SellerResult & Problem>("POST", "/v1/me/seller", { token });

const openShop = (token: string) => api("POST", "/v1/shops", { token, body: shopBody() });

describe("POST /v1/me/seller", () => {
  it("makes a buyer a seller, audited, with a fresh token that may open a shop", async () => {
    const buyer = await registerUser("buyer");
    expect((await openShop(buyer.accessToken)).status).toBe(403);
    const res = await becomeSeller(buyer.accessToken);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: buyer.id, role: "seller" });
    expect((await openShop(res.body.session.accessToken)).status).toBe(201);
    const audits = await auditRows(buyer.id, { action: "user.role_changed" });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      actorId: buyer.id,
      oldValue: { role: "buyer" },
      newValue: { role: "seller" },
    });
  });

  it("gives the role to older sessions at their next refresh", async () => {
    const buyer = await registerUser("buyer");
    expect((await becomeSeller(buyer.accessToken)).status).toBe(200);
    const refreshed = await api<{ accessToken: string }>("POST", "/v1/auth/refresh", {
      body: { refreshToken: buyer.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    expect((await openShop(refreshed.body.accessToken)).status).toBe(201);
  });

  it("answers a seller again with a fresh session and writes nothing", async () => {
    const seller = await registerUser("seller");
    const res = await becomeSeller(seller.accessToken);
    expect(res.status).toBe(200);
    expect(res.body.user.role).toBe("seller");
    expect(await auditRows(seller.id, { action: "user.role_changed" })).toHaveLength(0);
  });

  it("keeps an admin an admin (409) and refuses a blocked account (403)", async () => {
    const admin = await createAdmin();
    const asAdmin = await becomeSeller(admin.accessToken);
    expect(asAdmin.status).toBe(409);
    const buyer = await registerUser("buyer");
    const blocked = await api("POST", `/v1/admin/users/${buyer.id}/block`, {
      token: admin.accessToken,
      body: { reason: "abusive messages" },
    });
    expect(blocked.status).toBe(200);
    const res = await becomeSeller(buyer.accessToken);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("ACCOUNT_BLOCKED");
  });
});
