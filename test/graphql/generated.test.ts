/**
 * schema.graphql and the typed client in src/client/gql are generated; these tests
 * fail when either is out of step with the code, and say which command fixes it.
 */
import { readFile } from "node:fs/promises";
import { generate } from "@graphql-codegen/cli";
import { describe, expect, it } from "vitest";
import config from "../../codegen.js";
import { printSortedSchema } from "../../src/graphql/schema.js";

describe("generated artefacts", () => {
  it("schema.graphql matches the Pothos schema (run `npm run schema:print` and commit)", async () => {
    const committed = await readFile(new URL("../../schema.graphql", import.meta.url), "utf8");
    expect(committed, "schema.graphql is out of date: run `npm run schema:print` and commit it").toBe(
      printSortedSchema(),
    );
  });

  it("the typed client matches schema.graphql and the operations (run `npm run codegen` and commit)", async () => {
    const outputs = await generate({ ...config, silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      const committed = await readFile(output.filename, "utf8").catch(() => "(missing)");
      expect(committed, `${output.filename} is out of date: run \`npm run codegen\` and commit it`).toBe(
        output.content,
      );
    }
  }, 60_000);
});
