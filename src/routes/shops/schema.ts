import { z } from "@hono/zod-openapi";

/**
 * A service's input schema as a named OpenAPI component. Rebuilt from its shape with the
 * OpenAPI-aware `z`: calling `.openapi()` on a schema made before @hono/zod-openapi extended
 * zod fails, and which module loads first is not ours to rely on (a test may import a service
 * before the app).
 */
export const bodyOf = <S extends z.core.$ZodLooseShape>(schema: { shape: S }, name: string) =>
  z.object(schema.shape).openapi(name);

const publicFields = {
  id: z.uuid(),
  slug: z.string().openapi({ example: "lisbon-ceramics" }),
  name: z.string(),
  description: z.string(),
  country: z.string().openapi({ example: "PT" }),
  currency: z.string().openapi({ example: "EUR" }),
  createdAt: z.iso.datetime(),
};

const managedFields = {
  ownerId: z.uuid(),
  status: z.enum(["pending", "approved", "rejected", "suspended"]),
  statusReason: z.string().nullable(),
  visible: z.boolean().openapi({ description: "Whether buyers can see the shop now." }),
  contactEmail: z.email(),
  contactPhone: z.string(),
  emailVerifiedAt: z.iso.datetime().nullable(),
  phoneVerifiedAt: z.iso.datetime().nullable(),
  approvedAt: z.iso.datetime().nullable(),
  payoutsEnabled: z.boolean(),
  updatedAt: z.iso.datetime(),
  myRole: z
    .enum(["owner", "manager", "staff"])
    .nullable()
    .openapi({ description: "Your role in the shop; null for an admin who is not a member." }),
};

export const ShopPublicSchema = z.object(publicFields).openapi("Shop");
export const ShopManagedSchema = z
  .object({ ...publicFields, ...managedFields })
  .openapi("ShopManaged", {
    description: "A shop as its team and admins see it: status, contacts, verification.",
  });

/** GET /v1/shops/{id}: the public fields, plus the managed ones for members and admins. */
export const ShopViewSchema = z
  .object({ ...publicFields, ...z.object(managedFields).partial().shape })
  .openapi("ShopView", {
    description:
      "Anyone sees a visible shop's public fields. The shop's members and admins also get the " +
      "managed fields (status, contacts, verification), whatever the shop's state.",
  });

export const ShopPage = z
  .object({ items: z.array(ShopPublicSchema), nextCursor: z.string().nullable() })
  .openapi("ShopPage");
export const ShopManagedPage = z
  .object({ items: z.array(ShopManagedSchema), nextCursor: z.string().nullable() })
  .openapi("ShopManagedPage");
