import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuthWhileBlocked } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { pageQuery } from "../../lib/pagination.ts";
import {
  createAddress,
  createAddressInput,
  deleteAddress,
  getAddress,
  listAddresses,
  updateAddress,
  updateAddressInput,
} from "../../services/users/addresses.ts";
import {
  deleteAccount,
  deleteAccountInput,
  getProfile,
  updateProfile,
  updateProfileInput,
} from "../../services/users/profile.ts";
import { bearer, IdParam, json, ok, problems, UserSchema } from "../schemas.ts";
import { accountRoutes } from "./account.ts";

const AddressSchema = z
  .object({
    id: z.uuid(),
    label: z.string().nullable(),
    recipientName: z.string(),
    line1: z.string(),
    line2: z.string().nullable(),
    city: z.string(),
    region: z.string().nullable(),
    postalCode: z.string(),
    country: z.string(),
    phone: z.string().nullable(),
    isDefault: z.boolean(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Address");
const AddressPage = z.object({ items: z.array(AddressSchema), nextCursor: z.string().nullable() });
const base = { tags: ["me"], security: bearer, middleware: [requireAuthWhileBlocked] };

const getMe = createRoute({
  ...base,
  method: "get",
  path: "/",
  summary: "The signed-in user",
  responses: { 200: ok("Profile", UserSchema), ...problems(401) },
});
const patchMe = createRoute({
  ...base,
  method: "patch",
  path: "/",
  summary: "Change the display name or the password (signs out every session)",
  request: { body: json(updateProfileInput) },
  responses: { 200: ok("Profile", UserSchema), ...problems(401, 422) },
});
const deleteMe = createRoute({
  ...base,
  method: "delete",
  path: "/",
  summary: "Delete your account, confirming with your password",
  description:
    "Soft delete: every session ends and the access tokens still valid are refused (401) from " +
    "this moment. An owner of a live shop gets 409 (close the shop first); a wrong password, 422.",
  request: { body: json(deleteAccountInput.openapi("DeleteAccountInput")) },
  responses: { 204: { description: "Deleted" }, ...problems(401, 409, 422) },
});
const listAddr = createRoute({
  ...base,
  method: "get",
  path: "/addresses",
  summary: "Your addresses, newest first",
  request: { query: pageQuery },
  responses: { 200: ok("A page of addresses", AddressPage), ...problems(401, 422) },
});
const createAddr = createRoute({
  ...base,
  method: "post",
  path: "/addresses",
  summary: "Add an address",
  request: { body: json(createAddressInput.openapi("AddressInput")) },
  responses: { 201: ok("Created", AddressSchema), ...problems(401, 422) },
});
const getAddr = createRoute({
  ...base,
  method: "get",
  path: "/addresses/{id}",
  summary: "One of your addresses",
  request: { params: IdParam },
  responses: { 200: ok("Address", AddressSchema), ...problems(401, 404, 422) },
});
const patchAddr = createRoute({
  ...base,
  method: "patch",
  path: "/addresses/{id}",
  summary: "Change an address",
  request: { params: IdParam, body: json(updateAddressInput) },
  responses: { 200: ok("Address", AddressSchema), ...problems(401, 404, 422) },
});
const deleteAddr = createRoute({
  ...base,
  method: "delete",
  path: "/addresses/{id}",
  summary: "Remove an address (soft delete)",
  request: { params: IdParam },
  responses: { 204: { description: "Removed" }, ...problems(401, 404, 422) },
});

/** `/v1/me`: the profile and the address book of the signed-in user. */
export const meRoutes = createRouter()
  .openapi(getMe, async (c) => c.json(await getProfile(serviceContext(c), c.var.user.id), 200))
  .openapi(patchMe, async (c) =>
    c.json(await updateProfile(serviceContext(c), c.var.user.id, c.req.valid("json")), 200),
  )
  .openapi(deleteMe, async (c) => {
    await deleteAccount(serviceContext(c), c.var.user.id, c.req.valid("json"));
    return c.body(null, 204);
  })
  .openapi(listAddr, async (c) =>
    c.json(await listAddresses(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
  )
  .openapi(createAddr, async (c) =>
    c.json(await createAddress(serviceContext(c), c.var.user.id, c.req.valid("json")), 201),
  )
  .openapi(getAddr, async (c) =>
    c.json(await getAddress(serviceContext(c), c.var.user.id, c.req.valid("param").id), 200),
  )
  .openapi(patchAddr, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(
      await updateAddress(serviceContext(c), c.var.user.id, id, c.req.valid("json")),
      200,
    );
  })
  .openapi(deleteAddr, async (c) => {
    await deleteAddress(serviceContext(c), c.var.user.id, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .route("/", accountRoutes);
