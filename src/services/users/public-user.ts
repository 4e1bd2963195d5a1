import type { User } from "../../db/schema/users.ts";

/** The user as the API shows it: never credentials, never internal columns. */
export interface PublicUser {
  id: string;
  email: string;
  displayName: string;
  role: User["role"];
  /** When the holder proved the address with a mailed code; null until then. */
  emailVerifiedAt: string | null;
  blocked: boolean;
  createdAt: string;
}

export function toPublicUser(u: User): PublicUser {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    role: u.role,
    emailVerifiedAt: u.emailVerifiedAt?.toISOString() ?? null,
    blocked: u.blockedAt !== null,
    createdAt: u.createdAt.toISOString(),
  };
}
