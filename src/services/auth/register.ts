import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { credentials } from "../../db/schema/credentials.ts";
import { users } from "../../db/schema/users.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { text } from "../../lib/text.ts";
import { isUniqueViolation, type ServiceContext } from "../context.ts";
import { Conflict } from "../errors.ts";
import { type PublicUser, toPublicUser } from "../users/public-user.ts";
import { hashPassword } from "./password.ts";
import { type Session, startSession } from "./session.ts";

export const passwordSchema = z
  .string()
  .min(10, "must be at least 10 characters")
  .max(256, "must be at most 256 characters");

export const registerInput = z.object({
  email: z
    .email()
    .max(254)
    .transform((e) => e.toLowerCase()),
  password: passwordSchema,
  displayName: text().trim().min(1).max(80),
  /** Admins are never self-registered: `npm run admin:create` makes them. */
  role: z.enum(["buyer", "seller"]).default("buyer"),
});
export type RegisterInput = z.input<typeof registerInput>;

/** Creates an account with its credentials and audit row, and starts a session. */
export async function registerUser(
  ctx: ServiceContext,
  raw: RegisterInput,
): Promise<{ user: PublicUser; session: Session }> {
  const input = registerInput.parse(raw);
  const passwordHash = await hashPassword(
    input.password,
    ctx.config.PASSWORD_PEPPER,
    ctx.config.PBKDF2_ITERATIONS,
  );
  const id = uuidv7();
  try {
    return await withAudit(ctx.db, { ...ctx.actor, id: ctx.actor.id ?? id }, async (tx, audit) => {
      const [user] = await tx
        .insert(users)
        .values({ id, email: input.email, displayName: input.displayName, role: input.role })
        .returning();
      if (!user) throw new Error("insert returned no user");
      await tx.insert(credentials).values({ userId: id, passwordHash });
      const publicUser = toPublicUser(user);
      await audit.record({
        action: "user.registered",
        entityType: "user",
        entityId: id,
        newValue: publicUser,
      });
      return { user: publicUser, session: await startSession(ctx, user, tx) };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict("An account with this email already exists.");
    throw err;
  }
}
