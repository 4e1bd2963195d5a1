import type { User } from "../../db/schema/users.ts";

/** The user as the API shows it: never credentials, never internal columns. */
export interface PublicUser {
  id: string;
  email: string;
  displayName: string;
  role: User["role"];
  blocked: boolean;
  createdAt: string;
}

export function toPublicUser(u: User): PublicUser {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    role: u.role,
    blocked: u.blockedAt !== null,
    createdAt: u.createdAt.toISOString(),
  };
}
