import { describe, expect, it } from "vitest";
import { seedCategory } from "../../helpers/catalog.ts";
import { api } from "../../helpers/http.ts";

interface Node {
  id: string;
  slug: string;
  name: string;
  position: number;
  children: Node[];
}

describe("GET /v1/categories", () => {
  it("answers the tree to anyone, subcategories nested under their parent", async () => {
    const root = await seedCategory();
    const child = await seedCategory(root.id);
    const grandchild = await seedCategory(child.id);
    const res = await api<Node[]>("GET", "/v1/categories");
    expect(res.status).toBe(200);
    expect(["hit", "miss", "bypass"]).toContain(res.headers.get("x-cache"));
    const node = res.body.find((n) => n.id === root.id);
    expect(node?.children.map((c) => c.id)).toEqual([child.id]);
    expect(node?.children[0]?.children.map((c) => c.id)).toEqual([grandchild.id]);
    expect(node?.children[0]?.children[0]).toMatchObject({ slug: grandchild.slug, children: [] });
    // Only roots at the top level.
    expect(res.body.map((n) => n.id)).not.toContain(child.id);
  });
});

describe("GET /openapi.json", () => {
  it("documents the catalog routes, the cache header and the recursive category tree", async () => {
    const res = await api<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    }>("GET", "/openapi.json");
    expect(res.status).toBe(200);
    for (const path of [
      "/v1/categories",
      "/v1/products",
      "/v1/products/{id}",
      "/v1/seller/products",
      "/v1/seller/products/{id}",
      "/v1/seller/products/{id}/publish",
      "/v1/admin/categories",
      "/v1/admin/categories/{id}",
    ]) {
      expect(res.body.paths, path).toHaveProperty([path]);
    }
    expect(JSON.stringify(res.body.paths["/v1/products"])).toContain("x-cache");
    expect(res.body.components.schemas).toHaveProperty("CategoryNode");
    expect(res.body.components.schemas).toHaveProperty("ProductInput");
  });
});
