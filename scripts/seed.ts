/**
 * `npm run seed`: a demo marketplace in the development database. Three approved, verified
 * shops with payouts enabled, a category tree, 30 published products (fixed price and auction)
 * and four accounts, whose credentials it prints.
 *
 * Where it writes, in the order `npm run db:migrate` uses: DATABASE_URL (shell, then .dev.vars);
 * else the embedded PGlite in .data/pg, through the running `npm run dev` when it holds the
 * database, or opened directly when it does not. Migrations are applied first. It goes straight
 * to Postgres (not through the API) because admin approval and payouts have no public route.
 *
 * Idempotent: every row has a natural key (email, slug, shop + SKU) and is inserted only when
 * missing, so a second run changes nothing and prints the same credentials. Passwords are hashed
 * exactly as the Worker does, with the PASSWORD_PEPPER from .dev.vars.
 *
 * Sales history (scripts/seed/): 12 months by default of paid orders and offline sales for the
 * fixed-price products, from the forecast bench's seeded generator, then the sales rollups and
 * the intelligence (forecasts, customer segments, recommendations) computed at once, so the
 * dashboards show something true on a fresh machine. A shop that has demo sales keeps them.
 *
 *   npm run seed                                   (12 months of sales)
 *   npm run seed -- --sales-months 24 --sales-seed 7
 *   npm run seed -- --sales-months 0               (catalog and accounts only)
 */

import { parseArgs } from "node:util";
import { Redis as UpstashRedis } from "@upstash/redis";
import { and, eq, isNull, sql } from "drizzle-orm";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../src/db/schema/index.ts";
import { MAX_PBKDF2_ITERATIONS } from "../src/env.ts";
import { errorMessage } from "../src/lib/error-message.ts";
import { uuidv7 } from "../src/lib/ids.ts";
import { hashPassword } from "../src/services/auth/password.ts";
import {
  bumpCatalogVersion,
  type CatalogScope,
  catalogCache,
  versionKeysFor,
} from "../src/services/catalog/cache-keys.ts";
import { seedDemoSales } from "./seed/demo-sales.ts";
import { loadDevEnv, openDevDatabase } from "./stack/dev-database.ts";
import { applyMigrations } from "./stack/postgres.ts";
import { parseRedisUrl, probeRedis, RespConnection } from "./stack/redis.ts";
import { LOCAL_REDIS_URL, redact } from "./stack/stack.ts";

const { auditLog, categories, credentials, products, shopLocations, shopMembers, shops, users } =
  schema;
type Db = NodePgDatabase<typeof schema>;
type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

const log = (msg: string) => console.log(`[seed] ${msg}`);
const ACTOR = { actorType: "system", requestId: "seed" } as const;

// ---------------------------------------------------------------------------------------------
// The demo data. Natural keys (email, slug, SKU) make every row findable on the next run.

interface SeedUser {
  email: string;
  password: string;
  displayName: string;
  role: "buyer" | "seller" | "admin";
}

const USERS = {
  admin: {
    email: "admin@souk.example",
    password: "souk-demo-admin",
    displayName: "Souk Admin",
    role: "admin",
  },
  seller: {
    email: "seller@souk.example",
    password: "souk-demo-seller",
    displayName: "Sofia Almeida",
    role: "seller",
  },
  buyer: {
    email: "buyer@souk.example",
    password: "souk-demo-buyer",
    displayName: "Bruno Costa",
    role: "buyer",
  },
  kamera: {
    email: "kamera@souk.example",
    password: "souk-demo-seller",
    displayName: "Jonas Weber",
    role: "seller",
  },
  loom: {
    email: "loom@souk.example",
    password: "souk-demo-seller",
    displayName: "Harriet Lane",
    role: "seller",
  },
} as const satisfies Record<string, SeedUser>;
type UserKey = keyof typeof USERS;

/** [slug, name, children as [slug, name]] in display order. */
const CATEGORY_TREE: Array<[string, string, Array<[string, string]>]> = [
  [
    "home-living",
    "Home & Living",
    [
      ["ceramics", "Ceramics"],
      ["lighting", "Lighting"],
      ["textiles", "Textiles"],
    ],
  ],
  [
    "fashion",
    "Fashion",
    [
      ["jewelry", "Jewelry"],
      ["bags", "Bags"],
    ],
  ],
  [
    "collectibles",
    "Collectibles",
    [
      ["vintage-cameras", "Vintage Cameras"],
      ["art-prints", "Art Prints"],
    ],
  ],
  ["electronics", "Electronics", [["audio", "Audio"]]],
];

interface SeedShop {
  slug: string;
  name: string;
  description: string;
  owner: UserKey;
  country: string;
  currency: string;
  phone: string;
}

const SHOPS: SeedShop[] = [
  {
    slug: "lisbon-ceramics",
    name: "Lisbon Ceramics",
    description: "Hand-painted tiles and stoneware from a small studio in Alfama.",
    owner: "seller",
    country: "PT",
    currency: "EUR",
    phone: "+351912345678",
  },
  {
    slug: "berlin-kamera",
    name: "Berlin Kamera",
    description: "Serviced vintage cameras, lenses and hi-fi from Kreuzberg.",
    owner: "kamera",
    country: "DE",
    currency: "EUR",
    phone: "+4915112345678",
  },
  {
    slug: "london-loom",
    name: "London Loom",
    description: "Handwoven textiles, prints and small-batch jewellery from Hackney.",
    owner: "loom",
    country: "GB",
    currency: "GBP",
    phone: "+447700900123",
  },
];

type Attrs = Record<string, string | number | boolean>;
/** [shop slug, SKU, category slug, title, description, price minor, listing type, attributes] */
type SeedProduct = [string, string, string, string, string, number, "fixed" | "auction", Attrs];

const PRODUCTS: SeedProduct[] = [
  [
    "lisbon-ceramics",
    "LC-001",
    "ceramics",
    "Hand-painted azulejo tile, cobalt blue",
    "A single 14 cm tin-glazed tile painted by hand with a traditional Lisbon pattern.",
    1800,
    "fixed",
    { material: "earthenware", sizeCm: 14, handmade: true },
  ],
  [
    "lisbon-ceramics",
    "LC-002",
    "ceramics",
    "Stoneware serving bowl, sea green glaze",
    "Wheel-thrown stoneware bowl for salads and fruit; dishwasher safe.",
    4200,
    "fixed",
    { material: "stoneware", diameterCm: 28, handmade: true },
  ],
  [
    "lisbon-ceramics",
    "LC-003",
    "ceramics",
    "Set of 4 espresso cups, speckled white",
    "Small stoneware cups with a speckled glaze, 80 ml each.",
    3600,
    "fixed",
    { material: "stoneware", pieces: 4 },
  ],
  [
    "lisbon-ceramics",
    "LC-004",
    "ceramics",
    "Terracotta olive oil jug",
    "Unglazed outside, glazed inside; keeps olive oil cool and dark.",
    2900,
    "fixed",
    { material: "terracotta", volumeMl: 500 },
  ],
  [
    "lisbon-ceramics",
    "LC-005",
    "lighting",
    "Ceramic pendant lamp, matte sand",
    "Porcelain pendant shade with a matte sand glaze and a braided cable.",
    8900,
    "fixed",
    { material: "porcelain", bulb: "E27" },
  ],
  [
    "lisbon-ceramics",
    "LC-006",
    "ceramics",
    "Azulejo tile panel, 1920s Lisbon tram",
    "A 12-tile panel showing tram 28 climbing to Graça; signed by the painter.",
    25000,
    "auction",
    { tiles: 12, signed: true },
  ],
  [
    "lisbon-ceramics",
    "LC-007",
    "lighting",
    "Glazed ceramic table lamp with linen shade",
    "Cobalt glazed base with a natural linen shade.",
    12500,
    "fixed",
    { heightCm: 52, bulb: "E27" },
  ],
  [
    "lisbon-ceramics",
    "LC-008",
    "ceramics",
    "Cork and ceramic coaster set",
    "Six tile coasters backed with Portuguese cork.",
    1500,
    "fixed",
    { pieces: 6, material: "cork" },
  ],
  [
    "lisbon-ceramics",
    "LC-009",
    "ceramics",
    "Large fruit bowl, cobalt swirl",
    "A generous bowl with a hand-painted cobalt swirl.",
    5600,
    "fixed",
    { diameterCm: 34, handmade: true },
  ],
  [
    "lisbon-ceramics",
    "LC-010",
    "collectibles",
    "Antique Vista Alegre porcelain vase",
    "Early twentieth-century porcelain vase with gilt rim; small chip at the foot.",
    40000,
    "auction",
    { era: "1910s", condition: "good" },
  ],
  [
    "berlin-kamera",
    "BK-001",
    "vintage-cameras",
    "Leica M3 rangefinder camera, 1957",
    "Double-stroke M3, shutter serviced, clean rangefinder patch.",
    180000,
    "auction",
    { year: 1957, serviced: true, format: "35mm" },
  ],
  [
    "berlin-kamera",
    "BK-002",
    "vintage-cameras",
    "Rolleiflex 2.8F twin-lens reflex camera",
    "Planar 80 mm f/2.8, working meter, bright screen.",
    150000,
    "auction",
    { format: "120", lens: "Planar 80mm f/2.8" },
  ],
  [
    "berlin-kamera",
    "BK-003",
    "vintage-cameras",
    "Zeiss Ikon Contax II rangefinder",
    "Pre-war Contax II with Sonnar 50 mm f/2.",
    65000,
    "auction",
    { year: 1938, format: "35mm" },
  ],
  [
    "berlin-kamera",
    "BK-004",
    "vintage-cameras",
    "Praktica MTL5 35mm film camera, serviced",
    "A reliable East German SLR, new light seals, tested with film.",
    12000,
    "fixed",
    { format: "35mm", mount: "M42", serviced: true },
  ],
  [
    "berlin-kamera",
    "BK-005",
    "vintage-cameras",
    "Helios 44-2 58mm lens, M42 mount",
    "The swirly-bokeh classic; clean glass, smooth focus.",
    6500,
    "fixed",
    { mount: "M42", focalLengthMm: 58 },
  ],
  [
    "berlin-kamera",
    "BK-006",
    "vintage-cameras",
    "Kodak Retina IIa folding camera",
    "Compact folding rangefinder made in Stuttgart.",
    9500,
    "fixed",
    { format: "35mm", year: 1951 },
  ],
  [
    "berlin-kamera",
    "BK-007",
    "audio",
    "Vintage Braun T3 pocket radio",
    "Dieter Rams' 1958 transistor radio, working, original case.",
    30000,
    "auction",
    { designer: "Dieter Rams", year: 1958 },
  ],
  [
    "berlin-kamera",
    "BK-008",
    "audio",
    "Revox A77 reel-to-reel tape recorder",
    "Two-track machine, recapped, new belts, plays and records.",
    85000,
    "fixed",
    { tracks: 2, serviced: true },
  ],
  [
    "berlin-kamera",
    "BK-009",
    "art-prints",
    "Berlin U-Bahn map, 1968 screen print",
    "Reproduction screen print of the 1968 network map, A2.",
    4500,
    "fixed",
    { size: "A2", framed: false },
  ],
  [
    "berlin-kamera",
    "BK-010",
    "bags",
    "Leather camera bag, brown, fits two lenses",
    "Vegetable-tanned leather with a padded insert.",
    7900,
    "fixed",
    { material: "leather", color: "brown" },
  ],
  [
    "london-loom",
    "LL-001",
    "textiles",
    "Handwoven wool throw, herringbone",
    "Pure new wool throw woven on a dobby loom, 130 x 180 cm.",
    9500,
    "fixed",
    { material: "wool", widthCm: 130, lengthCm: 180 },
  ],
  [
    "london-loom",
    "LL-002",
    "textiles",
    "Linen tea towels, set of 3",
    "Stonewashed linen in oat, rust and indigo.",
    2400,
    "fixed",
    { material: "linen", pieces: 3 },
  ],
  [
    "london-loom",
    "LL-003",
    "textiles",
    "Indigo-dyed cotton cushion cover",
    "Shibori-dyed cotton, 45 x 45 cm, hidden zip.",
    3200,
    "fixed",
    { material: "cotton", sizeCm: 45 },
  ],
  [
    "london-loom",
    "LL-004",
    "fashion",
    "Merino wool scarf, heather grey",
    "Soft merino scarf woven in the studio, 180 cm long.",
    4500,
    "fixed",
    { material: "merino", lengthCm: 180 },
  ],
  [
    "london-loom",
    "LL-005",
    "bags",
    "Waxed canvas tote bag, olive",
    "Water-resistant waxed canvas with leather handles.",
    5800,
    "fixed",
    { material: "canvas", color: "olive" },
  ],
  [
    "london-loom",
    "LL-006",
    "jewelry",
    "Silver knot earrings, recycled sterling",
    "Small knot studs cast in recycled sterling silver.",
    3900,
    "fixed",
    { material: "silver", recycled: true },
  ],
  [
    "london-loom",
    "LL-007",
    "jewelry",
    "Enamel brooch, London bus",
    "Hard enamel pin of a red Routemaster bus.",
    1800,
    "fixed",
    { material: "enamel" },
  ],
  [
    "london-loom",
    "LL-008",
    "art-prints",
    "William Morris Strawberry Thief print, framed",
    "Giclée print of the 1883 textile design in an oak frame.",
    22000,
    "auction",
    { framed: true, size: "50x70cm" },
  ],
  [
    "london-loom",
    "LL-009",
    "textiles",
    "Handwoven rug, indigo stripes",
    "Flat-woven wool rug, 120 x 180 cm, indigo and cream stripes.",
    35000,
    "auction",
    { material: "wool", widthCm: 120, lengthCm: 180 },
  ],
  [
    "london-loom",
    "LL-010",
    "lighting",
    "Linen lampshade, natural, 30 cm",
    "Drum lampshade in natural linen for table or pendant lamps.",
    4200,
    "fixed",
    { material: "linen", diameterCm: 30 },
  ],
];

// ---------------------------------------------------------------------------------------------

async function audit(
  tx: Tx,
  action: string,
  entityType: string,
  entityId: string,
  newValue: unknown,
): Promise<void> {
  await tx.insert(auditLog).values({
    id: uuidv7(),
    ...ACTOR,
    action,
    entityType,
    entityId,
    newValue,
  });
}

interface Counts {
  created: number;
  existing: number;
}
const counts: Record<string, Counts> = {};
function tally(kind: string, created: boolean): void {
  counts[kind] ??= { created: 0, existing: 0 };
  const c = counts[kind];
  if (created) c.created += 1;
  else c.existing += 1;
}

async function ensureUser(
  db: Db,
  u: SeedUser,
  pepper: string,
  iterations: number,
): Promise<string> {
  const live = and(eq(users.email, u.email), isNull(users.deletedAt));
  const [found] = await db.select({ id: users.id }).from(users).where(live);
  if (found) {
    tally("users", false);
    return found.id;
  }
  const passwordHash = await hashPassword(u.password, pepper, iterations);
  const id = uuidv7();
  const inserted = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(users)
      .values({ id, email: u.email, displayName: u.displayName, role: u.role })
      .onConflictDoNothing({ target: users.email, where: sql`deleted_at is null` })
      .returning({ id: users.id });
    if (!row) return false;
    await tx.insert(credentials).values({ userId: id, passwordHash });
    await audit(tx, "user.registered", "user", id, {
      email: u.email,
      role: u.role,
      source: "seed",
    });
    return true;
  });
  tally("users", inserted);
  if (inserted) return id;
  const [raced] = await db.select({ id: users.id }).from(users).where(live);
  if (!raced) throw new Error(`could not create or find ${u.email}`);
  return raced.id;
}

async function ensureCategory(
  db: Db,
  slug: string,
  name: string,
  position: number,
  parentId: string | null,
): Promise<string> {
  const live = and(eq(categories.slug, slug), isNull(categories.deletedAt));
  const [found] = await db.select({ id: categories.id }).from(categories).where(live);
  if (found) {
    tally("categories", false);
    return found.id;
  }
  const id = uuidv7();
  await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(categories)
      .values({ id, slug, name, position, parentId })
      .onConflictDoNothing({ target: categories.slug, where: sql`deleted_at is null` })
      .returning({ id: categories.id });
    tally("categories", Boolean(row));
    if (row) await audit(tx, "category.created", "category", id, { slug, name, parentId });
  });
  const [row] = await db.select({ id: categories.id }).from(categories).where(live);
  if (!row) throw new Error(`could not create or find category ${slug}`);
  return row.id;
}

async function ensureShop(db: Db, s: SeedShop, ownerId: string): Promise<string> {
  const live = and(eq(shops.slug, s.slug), isNull(shops.deletedAt));
  const [found] = await db.select({ id: shops.id }).from(shops).where(live);
  if (found) {
    tally("shops", false);
    return found.id;
  }
  const id = uuidv7();
  const now = new Date();
  await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(shops)
      .values({
        id,
        ownerId,
        name: s.name,
        slug: s.slug,
        description: s.description,
        contactEmail: `hello@${s.slug}.souk.example`,
        contactPhone: s.phone,
        country: s.country,
        currency: s.currency,
        status: "approved",
        emailVerifiedAt: now,
        phoneVerifiedAt: now,
        approvedAt: now,
        stripeAccountId: `acct_demo_${s.slug.replaceAll("-", "")}`,
        payoutsEnabled: true,
      })
      .onConflictDoNothing({ target: shops.slug, where: sql`deleted_at is null` })
      .returning({ id: shops.id });
    tally("shops", Boolean(row));
    if (!row) return;
    await tx.insert(shopMembers).values({ shopId: id, userId: ownerId, role: "owner" });
    await tx
      .insert(shopLocations)
      .values({ id: uuidv7(), shopId: id, kind: "warehouse", name: "Warehouse", code: "WH" });
    await audit(tx, "shop.created", "shop", id, { slug: s.slug, source: "seed" });
    await audit(tx, "shop.approved", "shop", id, { slug: s.slug, source: "seed" });
  });
  const [row] = await db.select({ id: shops.id }).from(shops).where(live);
  if (!row) throw new Error(`could not create or find shop ${s.slug}`);
  return row.id;
}

async function ensureProduct(
  db: Db,
  p: SeedProduct,
  shop: { id: string; currency: string },
  categoryId: string,
  publishedAt: Date,
): Promise<void> {
  const [, sku, , title, description, priceMinor, listingType, attributes] = p;
  const live = and(eq(products.shopId, shop.id), eq(products.sku, sku), isNull(products.deletedAt));
  const [found] = await db.select({ id: products.id }).from(products).where(live);
  if (found) {
    tally("products", false);
    return;
  }
  const id = uuidv7();
  await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(products)
      .values({
        id,
        shopId: shop.id,
        categoryId,
        title,
        description,
        priceMinor,
        currency: shop.currency,
        sku,
        imageUrls: [`https://images.souk.example/${sku.toLowerCase()}.jpg`],
        attributes,
        listingType,
        status: "published",
        publishedAt,
        createdAt: publishedAt,
        updatedAt: publishedAt,
      })
      .onConflictDoNothing({
        target: [products.shopId, products.sku],
        where: sql`deleted_at is null`,
      })
      .returning({ id: products.id });
    tally("products", Boolean(row));
    if (row) await audit(tx, "product.created", "product", id, { sku, title, source: "seed" });
  });
}

/**
 * The running Worker may have cached the catalog before the seed; bump the versions its keys
 * embed (same namespace: the same DATABASE_URL). Best effort: no Redis, no cache to refresh.
 */
async function refreshCache(
  env: Record<string, string | undefined>,
  databaseUrl: string,
  shopIds: string[],
): Promise<void> {
  const scopes: CatalogScope[] = [
    { kind: "categories" },
    ...shopIds.map((shopId): CatalogScope => ({ kind: "shop", shopId })),
  ];
  if (env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN) {
    const redis = new UpstashRedis({
      url: env.UPSTASH_REDIS_REST_URL,
      token: env.UPSTASH_REDIS_REST_TOKEN,
    });
    const cache = catalogCache(redis, databaseUrl);
    for (const scope of scopes) await bumpCatalogVersion(cache, scope);
    log("cache: catalog versions bumped (Upstash)");
    return;
  }
  const redisUrl = env.REDIS_URL ?? LOCAL_REDIS_URL;
  if (!(await probeRedis(redisUrl))) return;
  const { namespace } = catalogCache(null, databaseUrl);
  const connection = new RespConnection(parseRedisUrl(redisUrl));
  try {
    await connection.ready;
    const keys = [...new Set(scopes.flatMap((scope) => versionKeysFor(namespace, scope)))];
    await connection.send(keys.map((key) => ["INCR", key]));
    log(`cache: catalog versions bumped (${redact(redisUrl)})`);
  } finally {
    connection.close();
  }
}

const { values: args } = parseArgs({
  options: {
    "sales-months": { type: "string", default: "12" },
    "sales-seed": { type: "string", default: "20261203" },
  },
});

async function main(): Promise<void> {
  const salesMonths = Number(args["sales-months"]);
  const salesSeed = Number(args["sales-seed"]);
  if (!Number.isFinite(salesMonths) || salesMonths < 0 || salesMonths > 60) {
    throw new Error("--sales-months must be a number of months from 0 to 60");
  }
  if (!Number.isSafeInteger(salesSeed)) throw new Error("--sales-seed must be an integer");
  const env = loadDevEnv();
  const pepper = env.PASSWORD_PEPPER;
  if (!pepper || pepper.length < 16) {
    throw new Error(
      "PASSWORD_PEPPER is not set: run `npm run dev` once (it writes .dev.vars with one) or set " +
        "it to the Worker's value, or the seeded passwords will not log in.",
    );
  }
  const iterations = Number(env.PBKDF2_ITERATIONS ?? MAX_PBKDF2_ITERATIONS);
  const target = await openDevDatabase(env, log);
  // One connection: PGlite serves one client's transaction at a time anyway.
  const pool = new pg.Pool({ connectionString: target.url, max: 1 });
  pool.on("error", () => {});
  try {
    await applyMigrations(target.url);
    const db = drizzle({ client: pool, schema });

    const userIds = {} as Record<UserKey, string>;
    for (const key of Object.keys(USERS) as UserKey[]) {
      userIds[key] = await ensureUser(db, USERS[key], pepper, iterations);
    }

    const categoryIds = new Map<string, string>();
    for (const [i, [slug, name, children]] of CATEGORY_TREE.entries()) {
      const rootId = await ensureCategory(db, slug, name, i, null);
      categoryIds.set(slug, rootId);
      for (const [j, [childSlug, childName]] of children.entries()) {
        categoryIds.set(childSlug, await ensureCategory(db, childSlug, childName, j, rootId));
      }
    }

    const shopBySlug = new Map<string, { id: string; currency: string }>();
    for (const s of SHOPS) {
      shopBySlug.set(s.slug, {
        id: await ensureShop(db, s, userIds[s.owner]),
        currency: s.currency,
      });
    }

    // Staggered publish times give "newest" a stable, readable order: first listed is oldest.
    const base = Date.UTC(2026, 10, 1, 9, 0, 0);
    for (const [i, p] of PRODUCTS.entries()) {
      const shop = shopBySlug.get(p[0]);
      const categoryId = categoryIds.get(p[2]);
      if (!shop || !categoryId) throw new Error(`seed data: unknown shop or category in ${p[1]}`);
      await ensureProduct(db, p, shop, categoryId, new Date(base + i * 60 * 60 * 1000));
    }

    const shopIds = [...shopBySlug.values()].map((s) => s.id);
    await seedDemoSales(db, { months: salesMonths, seed: salesSeed, shopIds, log });
    await refreshCache(env, target.url, shopIds).catch((err: unknown) => {
      log(`cache: not refreshed (${errorMessage(err)})`);
    });

    for (const [kind, c] of Object.entries(counts)) {
      log(`${kind}: ${c.created} created, ${c.existing} already there`);
    }
    console.log("\nDemo accounts (POST /v1/auth/login with email and password):");
    for (const u of Object.values(USERS)) {
      console.log(`  ${u.role.padEnd(6)}  ${u.email.padEnd(22)}  ${u.password}`);
    }
    console.log("\nShops: lisbon-ceramics (seller@), berlin-kamera (kamera@), london-loom (loom@)");
    console.log('Try:   curl "http://localhost:8787/v1/products?q=ceramic+lamp"');
  } finally {
    await pool.end();
    await target.close();
  }
}

main().catch((error: unknown) => {
  console.error(`[seed] ${errorMessage(error)}`);
  process.exit(1);
});
