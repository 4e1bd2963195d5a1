import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import {
  createCategory,
  createCategoryInput,
  deleteCategory,
  getCategory,
  listCategories,
  updateCategory,
  updateCategoryInput,
} from "../../services/catalog/categories.ts";
import { CategorySchema, named } from "../catalog/schema.ts";
import { IdParam, json, ok, problems } from "../schemas.ts";
import { adminOnly } from "./base.ts";

const list = createRoute({
  ...adminOnly,
  method: "get",
  path: "/",
  summary: "Every live category, flat, in display order (the tree is GET /v1/categories)",
  responses: { 200: ok("Categories", z.array(CategorySchema)), ...problems(401, 403) },
});

const create = createRoute({
  ...adminOnly,
  method: "post",
  path: "/",
  summary: "Create a category; `parentId` places it under another",
  request: { body: json(named(createCategoryInput, "CategoryInput")) },
  responses: { 201: ok("Created", CategorySchema), ...problems(401, 403, 409, 422) },
});

const getOne = createRoute({
  ...adminOnly,
  method: "get",
  path: "/{id}",
  summary: "One category",
  request: { params: IdParam },
  responses: { 200: ok("Category", CategorySchema), ...problems(401, 403, 404, 422) },
});

const patch = createRoute({
  ...adminOnly,
  method: "patch",
  path: "/{id}",
  summary: "Rename, move (not under itself) or reorder a category",
  request: { params: IdParam, body: json(named(updateCategoryInput, "CategoryUpdate")) },
  responses: { 200: ok("Category", CategorySchema), ...problems(401, 403, 404, 409, 422) },
});

const remove = createRoute({
  ...adminOnly,
  method: "delete",
  path: "/{id}",
  summary: "Remove a category (soft delete); 409 while it has subcategories or products",
  request: { params: IdParam },
  responses: { 204: { description: "Removed" }, ...problems(401, 403, 404, 409, 422) },
});

/** `/v1/admin/categories`: the category tree's admin CRUD, every change audited. */
export const adminCategoryRoutes = createRouter()
  .openapi(list, async (c) => c.json(await listCategories(serviceContext(c)), 200))
  .openapi(create, async (c) =>
    c.json(await createCategory(serviceContext(c), c.req.valid("json")), 201),
  )
  .openapi(getOne, async (c) =>
    c.json(await getCategory(serviceContext(c), c.req.valid("param").id), 200),
  )
  .openapi(patch, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await updateCategory(serviceContext(c), id, c.req.valid("json")), 200);
  })
  .openapi(remove, async (c) => {
    await deleteCategory(serviceContext(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
