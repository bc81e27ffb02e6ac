/**
 * `npm start`: the same code path as `apflow serve` (src/cli/commands/serve.ts);
 * arguments after `npm start --` are passed on (e.g. `npm start -- --port 5000`).
 */
import { runCli } from "./cli/main.js";

process.exit(await runCli(["serve", ...process.argv.slice(2)]));
