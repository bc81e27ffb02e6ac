/**
 * `npm run schema:print` writes schema.graphql from the Pothos schema;
 * `npm run schema:check` fails when the committed file is out of date.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { printSortedSchema } from "./schema.js";

export const SCHEMA_FILE = fileURLToPath(new URL("../../schema.graphql", import.meta.url));

const printed = printSortedSchema();
if (process.argv.includes("--check")) {
  const committed = await readFile(SCHEMA_FILE, "utf8").catch(() => "");
  if (committed !== printed) {
    process.stderr.write("schema.graphql is out of date: run `npm run schema:print` and commit it.\n");
    process.exit(1);
  }
} else {
  await writeFile(SCHEMA_FILE, printed);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
