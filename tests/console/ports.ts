/**
 * The console tests' own ports (8990-8999 by default), so a running `npm run dev` or faults run
 * is untouched. `SOUK_CONSOLE_PORT_BASE` moves all three, so two console runs can share a machine.
 */
const base = Number(process.env.SOUK_CONSOLE_PORT_BASE ?? 8990);
export const CONSOLE_PORTS = { worker: base, stripe: base + 1, attacker: base + 2 } as const;
