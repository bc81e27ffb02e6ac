import { describe, expect, it } from "vitest";
import type { ApflowError } from "../../src/core/errors.js";
import { EXTENSIONS } from "../../src/executors/access.js";
import { builtinExecutors } from "../../src/executors/builtin.js";
import { caught, fakeContext } from "./context.js";

describe("builtinExecutors", () => {
  it("returns every executor apflow offers, with apflow's ids, each in one extension group", () => {
    const ids = builtinExecutors().map((e) => e.id);
    expect(ids.sort()).toEqual(
      [
        "aggregate_results_executor",
        "apflow_api_executor",
        "batch_crew_executor",
        "command_executor",
        "crew_executor",
        "docker_executor",
        "generate_executor",
        "grpc_executor",
        "llm_executor",
        "mcp_executor",
        "rest_executor",
        "scrape_executor",
        "send_email_executor",
        "ssh_executor",
        "system_info_executor",
        "websocket_executor",
      ].sort(),
    );
    expect(Object.values(EXTENSIONS).flat().sort()).toEqual(ids.sort());
  });

  it("gives every executor an object schema whose properties are described", () => {
    for (const executor of builtinExecutors()) {
      expect(executor.description.length).toBeGreaterThan(20);
      expect(executor.inputSchema.type).toBe("object");
      const properties = executor.inputSchema.properties as Record<string, { description?: string }>;
      for (const [name, property] of Object.entries(properties)) {
        expect(property.description, `${executor.id}.${name}`).toBeTruthy();
      }
      for (const name of (executor.inputSchema.required as string[] | undefined) ?? []) {
        expect(properties[name], `${executor.id} requires ${name}`).toBeDefined();
      }
    }
  });

  it("keeps command_executor and private URLs off unless allowed", async () => {
    const find = (options: Parameters<typeof builtinExecutors>[0], id: string) =>
      builtinExecutors(options).find((e) => e.id === id)!;
    const refused = await caught(() => find({}, "command_executor").execute({ command: "true" }, fakeContext()));
    expect((refused as ApflowError).code).toBe("EXECUTOR_FORBIDDEN");
    expect(
      await find({ allowCommand: true }, "command_executor").execute({ command: "true" }, fakeContext()),
    ).toMatchObject({
      exitCode: 0,
    });
    const limited = await caught(() =>
      find({ allowCommand: true, allowedCommands: ["echo"] }, "command_executor").execute(
        { command: "true" },
        fakeContext(),
      ),
    );
    expect((limited as ApflowError).code).toBe("EXECUTOR_FORBIDDEN");
    const privateUrl = await caught(() =>
      find({}, "rest_executor").execute({ url: "http://127.0.0.1:9/" }, fakeContext()),
    );
    expect((privateUrl as ApflowError).code).toBe("EXECUTOR_FORBIDDEN");
    const allowed = await caught(() =>
      find({ allowPrivateUrls: true }, "rest_executor").execute({ url: "http://127.0.0.1:9/" }, fakeContext()),
    );
    // Allowed through the guard, so it reaches the (closed) port.
    expect((allowed as ApflowError).details?.code).toBe("ECONNREFUSED");
  });
});
