/** `apflow executors list`. */
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import type { ExecutorView } from "../gateway/gateway.js";
import { renderTable } from "../output/table.js";

export const executorsListCommand: Command = {
  name: "executors list",
  summary: "List the executors, whether each is available here, and why not",
  async run(ctx) {
    const executors = await (await ctx.gateway()).listExecutors();
    const out = ctx.out;
    if (out.json) {
      out.printJson(executors);
      return ExitCode.OK;
    }
    const lines = renderTable<ExecutorView>(
      [
        { header: "ID", value: (e) => e.id },
        {
          header: "AVAILABLE",
          value: (e) => (e.available ? "yes" : "no"),
          paint: (e) => (e.available ? "green" : "red"),
        },
        {
          header: "DESCRIPTION",
          value: (e) => (e.available ? e.description : (e.unavailableReason ?? "not available")),
          paint: (e) => (e.available ? undefined : "dim"),
          shrink: true,
        },
      ],
      executors,
      out.style,
      out.width,
    );
    for (const line of lines) out.print(line);
    return ExitCode.OK;
  },
};
