import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { credentials } from "../../db/schema/credentials.ts";
import { users } from "../../db/schema/users.ts";
import type { ServiceContext } from "../context.ts";
import { Unauthenticated } from "../errors.ts";
import { type PublicUser, toPublicUser } from "../users/public-user.ts";
import { burnPasswordCheck, verifyPassword } from "./password.ts";
import { type Session, startSession } from "./session.ts";

export const loginInput = z.object({
  email: z
    .email()
    .max(254)
    .transform((e) => e.toLowerCase()),
  password: z.string().min(1).max(256),
});
export type LoginInput = z.input<typeof loginInput>;

const WRONG = "The email or password is wrong.";

/** Checks the password and starts a session; one message for unknown email and bad password. */
export async function loginUser(
  ctx: ServiceContext,
  raw: LoginInput,
): Promise<{ user: PublicUser; session: Session }> {
  const input = loginInput.parse(raw);
  const [row] = await ctx.db
    .select({ user: users, passwordHash: credentials.passwordHash })
    .from(users)
    .innerJoin(credentials, eq(credentials.userId, users.id))
    .where(and(eq(users.email, input.email), isNull(users.deletedAt)));
  if (!row) {
    await burnPasswordCheck(ctx.config.PASSWORD_PEPPER, ctx.config.PBKDF2_ITERATIONS);
    throw new Unauthenticated(WRONG);
  }
  if (!(await verifyPassword(input.password, ctx.config.PASSWORD_PEPPER, row.passwordHash))) {
    throw new Unauthenticated(WRONG);
  }
  return { user: toPublicUser(row.user), session: await startSession(ctx, row.user) };
}
