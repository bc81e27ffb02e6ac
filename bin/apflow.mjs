#!/usr/bin/env node
// The `apflow` command. apflow runs its TypeScript sources through tsx (as `npm start`
// does), so this registers tsx's loader, then hands the arguments to src/cli/main.ts.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/cli/main.ts");
// runCli resolves once the output is written; exit even if a handle lingers.
process.exit(await runCli(process.argv.slice(2)));
