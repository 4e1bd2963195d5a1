/**
 * Domain errors live at the ground floor (src/lib/errors.ts) so that Durable Objects and the
 * database layer can use them without importing a service; services keep importing them here.
 */
export * from "../lib/errors.ts";
