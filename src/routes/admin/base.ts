import { requireAuth, requireRole } from "../../http/middleware/auth.ts";
import { bearer } from "../schemas.ts";

/** What every `/v1/admin` operation declares: its tag, the bearer scheme and the admin gate. */
export const adminOnly = {
  tags: ["admin"],
  security: bearer,
  middleware: [requireAuth, requireRole("admin")],
};
