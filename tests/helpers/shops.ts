import { eq } from "drizzle-orm";
import { shopLocations, shopMembers, shops, users } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { withDb } from "./db.ts";
import { api, uniqueEmail } from "./http.ts";
import { registerUser, type TestUser } from "./users.ts";

export interface TestShop {
  id: string;
  slug: string;
  warehouseId: string;
  owner: TestUser;
}

export interface ShopSeed {
  status?: "pending" | "approved" | "rejected" | "suspended";
  emailVerified?: boolean;
  payoutsEnabled?: boolean;
  currency?: string;
}

/**
 * Seeds a shop straight into Postgres in the state a test needs (the API path to each state is
 * tested on its own in the shops tests). The owner is a registered seller with a real token.
 */
export async function seedShop(seed: ShopSeed = {}, owner?: TestUser): Promise<TestShop> {
  const user = owner ?? (await registerUser("seller"));
  const id = uuidv7();
  const slug = `shop-${id.slice(-12)}`;
  const warehouseId = uuidv7();
  const verified = seed.emailVerified ?? seed.status === "approved";
  await withDb(async (db) => {
    await db.insert(shops).values({
      id,
      ownerId: user.id,
      name: `Shop ${slug}`,
      slug,
      description: "A test shop",
      contactEmail: uniqueEmail("shop"),
      contactPhone: "+351912345678",
      country: "PT",
      currency: seed.currency ?? "EUR",
      status: seed.status ?? "approved",
      emailVerifiedAt: verified ? new Date() : null,
      approvedAt: seed.status === "approved" || seed.status === undefined ? new Date() : null,
      payoutsEnabled: seed.payoutsEnabled ?? true,
      stripeAccountId: (seed.payoutsEnabled ?? true) ? `acct_test_${id.slice(-10)}` : null,
    });
    await db.insert(shopMembers).values({ shopId: id, userId: user.id, role: "owner" });
    await db
      .insert(shopLocations)
      .values({ id: warehouseId, shopId: id, kind: "warehouse", name: "Warehouse", code: "WH" });
  });
  return { id, slug, warehouseId, owner: user };
}

/** Adds an existing user to a shop's team directly. */
export async function seedMember(
  shopId: string,
  user: TestUser,
  role: "manager" | "staff",
): Promise<void> {
  await withDb((db) => db.insert(shopMembers).values({ shopId, userId: user.id, role }));
}

/** An admin: registered as a buyer, promoted in the database (as `npm run admin:create` does), signed in again. */
export async function createAdmin(): Promise<TestUser> {
  const u = await registerUser("buyer");
  await withDb((db) => db.update(users).set({ role: "admin" }).where(eq(users.id, u.id)));
  const login = await api<{ session: { accessToken: string; refreshToken: string } }>(
    "POST",
    "/v1/auth/login",
    {
      body: { email: u.email, password: u.password },
    },
  );
  return {
    ...u,
    role: "admin",
    accessToken: login.body.session.accessToken,
    refreshToken: login.body.session.refreshToken,
  };
}
