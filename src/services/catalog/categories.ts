import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Queryable } from "../../db/client.ts";
import { type Category, categories, products } from "../../db/schema/catalog.ts";
import { type CachedValue, readThrough } from "../../lib/cache.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { isUniqueViolation } from "../context.ts";
import { Conflict, NotFound, ValidationFailed } from "../errors.ts";
import { bumpCatalogVersion, CATALOG_TTL_SECONDS, dataKey, versionKey } from "./cache-keys.ts";

export const categorySlug = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(64)
  .regex(
    /^[a-z0-9]+(?:-[a-z0-9]+)*$/,
    "must be lowercase words joined by hyphens, e.g. home-decor",
  );

const categoryFields = z.object({
  name: text().trim().min(1).max(80),
  slug: categorySlug,
  /** Null or absent: a top-level category. */
  parentId: z.uuid().nullable().optional(),
  position: z.number().int().min(0).max(1_000_000).optional(),
});
export const createCategoryInput = categoryFields;
export const updateCategoryInput = categoryFields.partial();

export interface CategoryView {
  id: string;
  parentId: string | null;
  slug: string;
  name: string;
  position: number;
  createdAt: string;
  updatedAt: string;
}

export interface CategoryNode {
  id: string;
  slug: string;
  name: string;
  position: number;
  children: CategoryNode[];
}

function view(c: Category): CategoryView {
  return {
    id: c.id,
    parentId: c.parentId,
    slug: c.slug,
    name: c.name,
    position: c.position,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

const live = (id: string) => and(eq(categories.id, id), isNull(categories.deletedAt));

function slugTaken(slug: string): Conflict {
  return new Conflict(`A category with slug "${slug}" already exists.`, { field: "slug" });
}

/**
 * A live category that other rows may point at, locked FOR SHARE so a concurrent delete (which
 * takes FOR UPDATE) cannot slip in between this check and the caller's insert.
 */
export async function requireLiveCategory(
  db: Queryable,
  id: string,
  field: string,
): Promise<Category> {
  const [row] = await db.select().from(categories).where(live(id)).for("share");
  if (!row) {
    throw new ValidationFailed([{ field, in: "body", message: "no such category" }]);
  }
  return row;
}

/** Live categories in display order: by position, then name. */
async function allLive(db: Queryable): Promise<Category[]> {
  return db
    .select()
    .from(categories)
    .where(isNull(categories.deletedAt))
    .orderBy(asc(categories.position), asc(categories.name), asc(categories.id));
}

/** Every live category, flat, for admins. */
export async function listCategories(ctx: ServiceContext): Promise<CategoryView[]> {
  return (await allLive(ctx.db)).map(view);
}

export async function getCategory(ctx: ServiceContext, id: string): Promise<CategoryView> {
  const [row] = await ctx.db.select().from(categories).where(live(id));
  if (!row) throw new NotFound("category", id);
  return view(row);
}

/** The whole live tree, roots first, each level in display order. */
export async function loadCategoryTree(db: Queryable): Promise<CategoryNode[]> {
  const rows = await allLive(db);
  const nodes = new Map<string, CategoryNode>();
  for (const r of rows) {
    nodes.set(r.id, { id: r.id, slug: r.slug, name: r.name, position: r.position, children: [] });
  }
  const roots: CategoryNode[] = [];
  for (const r of rows) {
    const node = nodes.get(r.id);
    if (!node) continue;
    const parent = r.parentId ? nodes.get(r.parentId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  return roots;
}

/** The public tree through the cache (keyed by the categories version). */
export async function cachedCategoryTree(
  ctx: ServiceContext,
): Promise<CachedValue<CategoryNode[]>> {
  return readThrough(ctx.cache, {
    versionKeys: [versionKey.categories(ctx.cache.namespace)],
    key: ([v]) => dataKey.categoryTree(ctx.cache.namespace, v ?? 0),
    ttlSeconds: CATALOG_TTL_SECONDS,
    load: () => loadCategoryTree(ctx.db),
  });
}

/** Creates a category (admin); the slug must be free among live categories. */
export async function createCategory(
  ctx: ServiceContext,
  raw: z.input<typeof createCategoryInput>,
): Promise<CategoryView> {
  const input = createCategoryInput.parse(raw);
  let created: CategoryView;
  try {
    created = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      if (input.parentId) await requireLiveCategory(tx, input.parentId, "parentId");
      const [row] = await tx
        .insert(categories)
        .values({
          id: uuidv7(),
          name: input.name,
          slug: input.slug,
          parentId: input.parentId ?? null,
          position: input.position ?? 0,
        })
        .returning();
      if (!row) throw new Error("insert returned no category");
      await audit.record({
        action: "category.created",
        entityType: "category",
        entityId: row.id,
        newValue: view(row),
      });
      return view(row);
    });
  } catch (err) {
    if (isUniqueViolation(err, "categories_slug_live_key")) throw slugTaken(input.slug);
    throw err;
  }
  await bumpCatalogVersion(ctx.cache, { kind: "categories" });
  return created;
}

/** True when `candidate` is `id` itself or one of its descendants. */
async function isInSubtree(db: Queryable, id: string, candidate: string): Promise<boolean> {
  const result = await db.execute<{ found: boolean }>(sql`
    with recursive sub(id) as (
      select ${id}::uuid
      union
      select c.id from ${categories} c join sub on c.parent_id = sub.id where c.deleted_at is null
    )
    select exists (select 1 from sub where id = ${candidate}::uuid) as found`);
  return result.rows[0]?.found === true;
}

/** Renames, moves or reorders a category (admin). Moving under its own subtree is refused. */
export async function updateCategory(
  ctx: ServiceContext,
  id: string,
  raw: z.input<typeof updateCategoryInput>,
): Promise<CategoryView> {
  const input = updateCategoryInput.parse(raw);
  if (Object.values(input).every((v) => v === undefined)) return getCategory(ctx, id);
  let updated: CategoryView;
  try {
    updated = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      const [before] = await tx.select().from(categories).where(live(id)).for("update");
      if (!before) throw new NotFound("category", id);
      if (input.parentId) {
        await requireLiveCategory(tx, input.parentId, "parentId");
        if (await isInSubtree(tx, id, input.parentId)) {
          throw new ValidationFailed([
            {
              field: "parentId",
              in: "body",
              message: "would make the category its own ancestor",
            },
          ]);
        }
      }
      const [after] = await tx
        .update(categories)
        .set({ ...input, updatedAt: new Date() })
        .where(eq(categories.id, id))
        .returning();
      if (!after) throw new NotFound("category", id);
      await audit.record({
        action: "category.updated",
        entityType: "category",
        entityId: id,
        oldValue: view(before),
        newValue: view(after),
      });
      return view(after);
    });
  } catch (err) {
    if (input.slug && isUniqueViolation(err, "categories_slug_live_key")) {
      throw slugTaken(input.slug);
    }
    throw err;
  }
  await bumpCatalogVersion(ctx.cache, { kind: "categories" });
  return updated;
}

/**
 * Soft-deletes a category (admin). One that still has live subcategories or live products
 * (drafts included) answers CONFLICT: move or delete them first.
 */
export async function deleteCategory(ctx: ServiceContext, id: string): Promise<void> {
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    // FOR UPDATE waits out (and then blocks) the FOR SHARE that product and child inserts take.
    const [row] = await tx.select().from(categories).where(live(id)).for("update");
    if (!row) throw new NotFound("category", id);
    const [child] = await tx
      .select({ id: categories.id })
      .from(categories)
      .where(and(eq(categories.parentId, id), isNull(categories.deletedAt)))
      .limit(1);
    if (child) {
      throw new Conflict("The category has subcategories; move or delete them first.", {
        reason: "has_children",
      });
    }
    const [product] = await tx
      .select({ id: products.id })
      .from(products)
      .where(and(eq(products.categoryId, id), isNull(products.deletedAt)))
      .limit(1);
    if (product) {
      throw new Conflict("The category has products; move or delete them first.", {
        reason: "has_products",
      });
    }
    const now = new Date();
    await tx
      .update(categories)
      .set({ deletedAt: now, updatedAt: now })
      .where(eq(categories.id, id));
    await audit.record({
      action: "category.deleted",
      entityType: "category",
      entityId: id,
      oldValue: view(row),
    });
  });
  await bumpCatalogVersion(ctx.cache, { kind: "categories" });
}
