import { describe, expect, it } from "vitest";
import { auditActions, auditCountBy } from "../../helpers/audit.ts";
import { createProduct, seedVisibleShop, uniqueWord } from "../../helpers/catalog.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { createAdmin } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface Category {
  id: string;
  parentId: string | null;
  slug: string;
  name: string;
  position: number;
}

interface Node {
  id: string;
  slug: string;
  children: Node[];
}

async function create(token: string, body: Record<string, unknown>) {
  return api<Category & Problem>("POST", "/v1/admin/categories", { token, body });
}

function find(nodes: Node[], id: string): Node | undefined {
  for (const n of nodes) {
    if (n.id === id) return n;
    const inner = find(n.children, id);
    if (inner) return inner;
  }
  return undefined;
}

describe("/v1/admin/categories", () => {
  it("creates, renames, moves and deletes categories, each with one audit row", async () => {
    const admin = await createAdmin();
    const t = admin.accessToken;
    const w = uniqueWord();
    const root = await create(t, { name: "Home", slug: `${w}-home` });
    expect(root.status).toBe(201);
    expect(root.body).toMatchObject({ parentId: null, slug: `${w}-home`, position: 0 });
    const kitchen = await create(t, {
      name: "Kitchen",
      slug: `${w}-KITCHEN`,
      parentId: root.body.id,
      position: 2,
    });
    expect(kitchen.status).toBe(201);
    expect(kitchen.body.slug).toBe(`${w}-kitchen`);
    const garden = await create(t, {
      name: "Garden",
      slug: `${w}-garden`,
      parentId: root.body.id,
      position: 1,
    });

    // The public tree: children under their parent, ordered by position.
    const tree = await api<Node[]>("GET", "/v1/categories");
    expect(tree.status).toBe(200);
    const home = find(tree.body, root.body.id);
    expect(home?.children.map((c) => c.id)).toEqual([garden.body.id, kitchen.body.id]);

    const renamed = await api<Category>("PATCH", `/v1/admin/categories/${kitchen.body.id}`, {
      token: t,
      body: { name: "Kitchen & Dining", parentId: null },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: "Kitchen & Dining", parentId: null });
    const after = await api<Node[]>("GET", "/v1/categories");
    expect(find(after.body, root.body.id)?.children.map((c) => c.id)).toEqual([garden.body.id]);
    expect(after.body.map((n) => n.id)).toContain(kitchen.body.id);

    const del = await api("DELETE", `/v1/admin/categories/${garden.body.id}`, { token: t });
    expect(del.status).toBe(204);
    const gone = await api("GET", `/v1/admin/categories/${garden.body.id}`, { token: t });
    expect(gone.status).toBe(404);
    expect(find((await api<Node[]>("GET", "/v1/categories")).body, garden.body.id)).toBeUndefined();

    expect(await auditActions(root.body.id)).toEqual(["category.created"]);
    expect(await auditActions(kitchen.body.id)).toEqual(["category.created", "category.updated"]);
    expect(await auditActions(garden.body.id)).toEqual(["category.created", "category.deleted"]);
  });

  it("refuses to delete a category with subcategories or products, writing no audit row", async () => {
    const admin = await createAdmin();
    const t = admin.accessToken;
    const w = uniqueWord();
    const parent = await create(t, { name: "Parent", slug: `${w}-parent` });
    const child = await create(t, { name: "Child", slug: `${w}-child`, parentId: parent.body.id });
    const before = await auditCountBy(admin.id);
    const withChild = await api<Problem>("DELETE", `/v1/admin/categories/${parent.body.id}`, {
      token: t,
    });
    expect(withChild.status).toBe(409);
    expect(withChild.body.code).toBe("CONFLICT");
    expect(withChild.body.detail).toMatch(/subcategories/);

    const shop = await seedVisibleShop();
    const draft = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: child.body.id,
      status: "draft",
    });
    const withProduct = await api<Problem>("DELETE", `/v1/admin/categories/${child.body.id}`, {
      token: t,
    });
    expect(withProduct.status).toBe(409);
    expect(withProduct.body.detail).toMatch(/products/);
    expect(await auditCountBy(admin.id)).toBe(before);

    // Once the product is gone (soft-deleted), the category can go too.
    await api("DELETE", `/v1/seller/products/${draft.id}`, { token: shop.owner.accessToken });
    expect(
      (await api("DELETE", `/v1/admin/categories/${child.body.id}`, { token: t })).status,
    ).toBe(204);
    expect(
      (await api("DELETE", `/v1/admin/categories/${parent.body.id}`, { token: t })).status,
    ).toBe(204);
  });

  it("answers 409 for a taken slug and 422 for a cycle or a missing parent", async () => {
    const admin = await createAdmin();
    const t = admin.accessToken;
    const w = uniqueWord();
    const a = await create(t, { name: "A", slug: `${w}-a` });
    const b = await create(t, { name: "B", slug: `${w}-b`, parentId: a.body.id });
    const before = await auditCountBy(admin.id);

    const dup = await create(t, { name: "A again", slug: `${w}-a` });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe("CONFLICT");
    const dupRename = await api<Problem>("PATCH", `/v1/admin/categories/${b.body.id}`, {
      token: t,
      body: { slug: `${w}-a` },
    });
    expect(dupRename.status).toBe(409);

    for (const parentId of [a.body.id, b.body.id]) {
      const cycle = await api<Problem>("PATCH", `/v1/admin/categories/${a.body.id}`, {
        token: t,
        body: { parentId },
      });
      expect(cycle.status, parentId).toBe(422);
      expect(cycle.body.errors?.[0]).toMatchObject({ field: "parentId", in: "body" });
    }
    const orphan = await create(t, {
      name: "Orphan",
      slug: `${w}-orphan`,
      parentId: crypto.randomUUID(),
    });
    expect(orphan.status).toBe(422);
    expect(orphan.body.errors?.[0]?.field).toBe("parentId");
    expect(await auditCountBy(admin.id)).toBe(before);
  });

  it("names every malformed field", async () => {
    const admin = await createAdmin();
    const bad = await create(admin.accessToken, {
      name: "",
      slug: "Not A Slug!",
      parentId: "nope",
      position: -1,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.field).sort()).toEqual([
      "name",
      "parentId",
      "position",
      "slug",
    ]);
    const badPatch = await api<Problem>("PATCH", `/v1/admin/categories/${crypto.randomUUID()}`, {
      token: admin.accessToken,
      body: { position: "first" },
    });
    expect(badPatch.status).toBe(422);
    expect(badPatch.body.errors?.[0]?.field).toBe("position");
    const notJson = await api<Problem>("POST", "/v1/admin/categories", {
      token: admin.accessToken,
      body: "{not json",
    });
    expect(notJson.status).toBe(422);
  });

  it("is for admins only", async () => {
    const seller = await registerUser("seller");
    const anon = await api<Problem>("POST", "/v1/admin/categories", {
      body: { name: "X", slug: "x" },
    });
    expect(anon.status).toBe(401);
    for (const [method, path] of [
      ["GET", "/v1/admin/categories"],
      ["POST", "/v1/admin/categories"],
      ["DELETE", `/v1/admin/categories/${crypto.randomUUID()}`],
    ] as const) {
      const res = await api<Problem>(method, path, {
        token: seller.accessToken,
        body: method === "POST" ? { name: "X", slug: `${uniqueWord()}` } : undefined,
      });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
  });
});
