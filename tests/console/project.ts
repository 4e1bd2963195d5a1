import type { TestProjectInlineConfiguration } from "vitest/config";

/**
 * The console's browser tests (issue 14): Node, not workerd. They start their own Worker under
 * wrangler on ports 8990-8999 (./global-setup.ts) and drive Debian's Chromium over real HTTP
 * with playwright-core. One file at a time, after the Worker tests (groupOrder), so a browser
 * never competes with the rest of the suite for the CI's two cores.
 */
export const consoleProject: TestProjectInlineConfiguration = {
  test: {
    name: "console",
    root: ".",
    environment: "node",
    include: ["tests/console/**/*.test.ts"],
    globalSetup: ["./tests/console/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    fileParallelism: false,
    sequence: { groupOrder: 1 },
  },
};
