import { SqlTaskStore } from "../../src/storage/sql-task-store.js";
import { openTestDatabase } from "../support/databases.js";
import { defineEngineContract } from "../support/engine-contract.js";

defineEngineContract("PGlite", () => {
  let cleanup: (() => Promise<void>) | undefined;
  return {
    async open() {
      const opened = await openTestDatabase("pglite");
      cleanup = opened.cleanup;
      return new SqlTaskStore(opened.db.sql);
    },
    cleanup: async () => cleanup?.(),
  };
});
