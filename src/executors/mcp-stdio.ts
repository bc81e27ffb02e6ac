/**
 * The MCP stdio transport for mcp_executor: an MCP server run as a child process,
 * speaking JSON-RPC over its stdin/stdout. Written here instead of using the SDK's
 * StdioClientTransport because a task-started server must be stoppable as a whole:
 * servers are often launchers (`npx some-server`, `uvx ...`) whose real server is a
 * grandchild, so the child gets its own process group and stopping signals the group,
 * as command_executor does. The SDK's transport also inherits more of the node's
 * environment and cannot keep the stderr tail that explains a crashed server.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { groupAlive, signalGroup } from "./process-group.js";

export interface StdioServerParams {
  /** The executable (a name looked up on env.PATH, or a path). */
  file: string;
  args: string[];
  /** The complete environment of the server. */
  env: Record<string, string>;
  cwd: string | undefined;
  /** After stdin is closed, how long the server may take to exit before SIGTERM, and SIGTERM before SIGKILL. */
  graceMs: number;
}

/** How much of the server's stderr is kept to explain a failure. */
const STDERR_TAIL_CHARS = 4000;

export class StdioProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child: ChildProcess | undefined;
  private readonly readBuffer = new ReadBuffer();
  private stderrText = "";
  private exited: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** How the server ended, once it has. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(private readonly params: StdioServerParams) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last part of what the server wrote to stderr. */
  get stderrTail(): string {
    return this.stderrText;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.params.file, this.params.args, {
        cwd: this.params.cwd,
        env: this.params.env,
        stdio: ["pipe", "pipe", "pipe"],
        // A new process group (setsid), so stopping reaches whatever the server started.
        detached: true,
        windowsHide: true,
      });
      this.child = child;
      this.exited = new Promise((done) =>
        child.once("close", (code, signal) => {
          this.exit = { code, signal };
          done();
          this.onclose?.();
        }),
      );
      child.once("error", (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once("spawn", () => resolve());
      child.stdin!.on("error", (error) => this.onerror?.(error));
      child.stdout!.on("data", (chunk: Buffer) => {
        try {
          this.readBuffer.append(chunk);
        } catch (error) {
          // One message over the buffer limit (10 MB): the stream cannot be resynchronised.
          this.onerror?.(error as Error);
          void this.close();
          return;
        }
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = this.readBuffer.readMessage();
          } catch (error) {
            this.onerror?.(error as Error); // a line that is not JSON-RPC: skip it
            continue;
          }
          if (message === null) break;
          this.onmessage?.(message);
        }
      });
      child.stderr!.on("data", (chunk: Buffer) => {
        this.stderrText = (this.stderrText + chunk.toString("utf8")).slice(-STDERR_TAIL_CHARS);
      });
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.child?.stdin;
      if (!stdin || stdin.destroyed || this.exit) {
        reject(new Error("the MCP server is not running"));
        return;
      }
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once("drain", resolve);
    });
  }

  /**
   * Stops the server the way the MCP spec asks for stdio: close its stdin and let it
   * exit, then SIGTERM, then SIGKILL, each after the grace period, to the whole group.
   */
  close(): Promise<void> {
    this.closing ??= this.stop(false);
    return this.closing;
  }

  /** Stops the server now (cancellation): SIGTERM to the group, SIGKILL after the grace period. */
  terminate(): Promise<void> {
    this.closing ??= this.stop(true);
    return this.closing;
  }

  private async stop(urgent: boolean): Promise<void> {
    const child = this.child;
    if (!child || !this.exited) return;
    child.stdin?.end();
    if (urgent || !(await this.exitsWithin(this.params.graceMs))) {
      signalGroup(child, "SIGTERM");
      if (!(await this.exitsWithin(this.params.graceMs))) {
        signalGroup(child, "SIGKILL");
        await this.exitsWithin(this.params.graceMs);
      }
    }
    // The server is done; nothing it started may outlive it.
    if (groupAlive(child)) signalGroup(child, "SIGKILL");
    this.readBuffer.clear();
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    if (this.exit) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([this.exited!.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
