/** The console tests' own ports (8990-8999), so a running `npm run dev` or faults run is untouched. */
export const CONSOLE_PORTS = { worker: 8990, stripe: 8991, attacker: 8992 } as const;
