/** The example scripts run as real child processes against a real server. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useTestServer } from "./support/server.js";

const run = promisify(execFile);

describe("examples", () => {
  const s = useTestServer("pglite");

  it("watch-tree.ts creates a tree, follows its events and reads it back", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "examples/watch-tree.ts"], {
      env: { ...process.env, APFLOW_API_URL: s.url },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/created tree /);
    expect(stdout).toMatch(/COMPLETED\s+report/);
    expect(stdout).toMatch(/report: COMPLETED, 3\/3 completed/);
  }, 90_000);
});
