import type { Shop, ShopRole } from "../../db/schema/shops.ts";
import { isShopVisible } from "./access.ts";

/** Who is looking: null for an anonymous buyer. */
export type Viewer = { id: string; role: "buyer" | "seller" | "admin" } | null;

/** What anyone may see of a visible shop. */
export interface ShopPublicView {
  id: string;
  slug: string;
  name: string;
  description: string;
  country: string;
  currency: string;
  createdAt: string;
}

/** What the shop's members and admins see: its state, contacts and verification. */
export interface ShopManagedView extends ShopPublicView {
  ownerId: string;
  status: Shop["status"];
  statusReason: string | null;
  /** Whether buyers can see it now (approved, email verified, not suspended or deleted). */
  visible: boolean;
  contactEmail: string;
  contactPhone: string;
  emailVerifiedAt: string | null;
  phoneVerifiedAt: string | null;
  approvedAt: string | null;
  payoutsEnabled: boolean;
  updatedAt: string;
  /** The viewer's role in the shop; null for an admin who is not a member. */
  myRole: ShopRole | null;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function publicView(s: Shop): ShopPublicView {
  return {
    id: s.id,
    slug: s.slug,
    name: s.name,
    description: s.description,
    country: s.country,
    currency: s.currency,
    createdAt: s.createdAt.toISOString(),
  };
}

export function managedView(s: Shop, myRole: ShopRole | null): ShopManagedView {
  return {
    ...publicView(s),
    ownerId: s.ownerId,
    status: s.status,
    statusReason: s.statusReason,
    visible: isShopVisible(s),
    contactEmail: s.contactEmail,
    contactPhone: s.contactPhone,
    emailVerifiedAt: iso(s.emailVerifiedAt),
    phoneVerifiedAt: iso(s.phoneVerifiedAt),
    approvedAt: iso(s.approvedAt),
    payoutsEnabled: s.payoutsEnabled,
    updatedAt: s.updatedAt.toISOString(),
    myRole,
  };
}

/** The audit trail's picture of a shop's review state. */
export function reviewState(s: Shop) {
  return {
    status: s.status,
    statusReason: s.statusReason,
    emailVerifiedAt: iso(s.emailVerifiedAt),
    approvedAt: iso(s.approvedAt),
  };
}
