import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../../helpers/http.ts";
import {
  createAdmin,
  type ShopSeed,
  seedMember,
  seedShop,
  type TestShop,
} from "../../helpers/shops.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";

type ViewerName = "anonymous" | "buyer" | "other seller" | "owner" | "staff member" | "admin";
const VIEWERS: ViewerName[] = [
  "anonymous",
  "buyer",
  "other seller",
  "owner",
  "staff member",
  "admin",
];
const TEAM_AND_ADMIN: ViewerName[] = ["owner", "staff member", "admin"];

/** Each shop state, and whether buyers may see a shop in it. */
const STATES: Array<{ name: string; seed: ShopSeed; visible: boolean }> = [
  { name: "pending", seed: { status: "pending", emailVerified: false }, visible: false },
  {
    name: "pending, email verified",
    seed: { status: "pending", emailVerified: true },
    visible: false,
  },
  {
    name: "approved and verified",
    seed: { status: "approved", emailVerified: true },
    visible: true,
  },
  {
    name: "approved but not verified",
    seed: { status: "approved", emailVerified: false },
    visible: false,
  },
  { name: "rejected", seed: { status: "rejected", emailVerified: true }, visible: false },
  { name: "suspended", seed: { status: "suspended", emailVerified: true }, visible: false },
];

interface Fixture {
  shops: Map<string, TestShop>;
  tokens: Map<ViewerName, string | undefined>;
}

const fx: Fixture = { shops: new Map(), tokens: new Map() };

beforeAll(async () => {
  const owner = await registerUser("seller");
  const staff: TestUser = await registerUser("buyer");
  const [buyer, otherSeller, admin] = await Promise.all([
    registerUser("buyer"),
    registerUser("seller"),
    createAdmin(),
  ]);
  for (const state of STATES) {
    const shop = await seedShop(state.seed, owner);
    await seedMember(shop.id, staff, "staff");
    fx.shops.set(state.name, shop);
  }
  fx.tokens.set("anonymous", undefined);
  fx.tokens.set("buyer", buyer.accessToken);
  fx.tokens.set("other seller", otherSeller.accessToken);
  fx.tokens.set("owner", owner.accessToken);
  fx.tokens.set("staff member", staff.accessToken);
  fx.tokens.set("admin", admin.accessToken);
});

const cases = STATES.flatMap((state) =>
  VIEWERS.map((viewer) => ({
    state: state.name,
    viewer,
    visible: state.visible,
    expected: state.visible || TEAM_AND_ADMIN.includes(viewer) ? 200 : 404,
  })),
);

describe("shop visibility: status × viewer", () => {
  it.each(cases)("GET /v1/shops/{id}: $state shop, $viewer → $expected", async (c) => {
    const shop = fx.shops.get(c.state);
    if (!shop) throw new Error("fixture missing");
    const res = await api<Record<string, unknown>>("GET", `/v1/shops/${shop.id}`, {
      token: fx.tokens.get(c.viewer),
    });
    expect(res.status).toBe(c.expected);
    if (res.status === 404) {
      expect(res.body.code).toBe("NOT_FOUND");
      return;
    }
    expect(res.body.id).toBe(shop.id);
    if (TEAM_AND_ADMIN.includes(c.viewer)) {
      // The team and admins get the managed fields, whatever the state.
      expect(res.body).toHaveProperty("status");
      expect(res.body.visible).toBe(c.visible);
    } else {
      // Buyers get the public fields only: no contacts, no review state.
      expect(res.body).not.toHaveProperty("contactEmail");
      expect(res.body).not.toHaveProperty("status");
    }
  });

  it.each(cases)("GET /v1/shops: $state shop listed to $viewer only if visible", async (c) => {
    const shop = fx.shops.get(c.state);
    if (!shop) throw new Error("fixture missing");
    const res = await api<{ items: Array<{ id: string }> }>("GET", `/v1/shops?q=${shop.slug}`, {
      token: fx.tokens.get(c.viewer),
    });
    expect(res.status).toBe(200);
    expect(res.body.items.map((s) => s.id)).toEqual(c.visible ? [shop.id] : []);
  });

  it("answers 404 for a shop id that does not exist, and 401 for a bad token", async () => {
    expect((await api("GET", `/v1/shops/${crypto.randomUUID()}`)).status).toBe(404);
    const shop = fx.shops.get("approved and verified");
    expect((await api("GET", `/v1/shops/${shop?.id}`, { token: "garbage" })).status).toBe(401);
  });

  it("names bad query and path parameters with 422", async () => {
    const badId = await api<{ errors: Array<{ field: string; in: string }> }>(
      "GET",
      "/v1/shops/not-a-uuid",
    );
    expect(badId.status).toBe(422);
    expect(badId.body.errors[0]).toMatchObject({ field: "id", in: "path" });
    const badQuery = await api<{ errors: Array<{ field: string; in: string }> }>(
      "GET",
      "/v1/shops?limit=1000&country=Portugal&cursor=x",
    );
    expect(badQuery.status).toBe(422);
    expect(badQuery.body.errors.map((e) => e.field).sort()).toEqual(["country", "limit"]);
  });
});
