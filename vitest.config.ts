import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module). Node loads the CJS build for our
    // dependencies; Vite would pick the ESM one for our sources: two "realms" of
    // graphql that reject each other's schema objects. Use the one Node uses.
    alias: { graphql: "graphql/index.js" },
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Starts a throwaway PostgreSQL when TEST_DATABASE_URL is not set (test/support/global-setup.ts).
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
