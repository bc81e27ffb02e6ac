/**
 * Bounded capture of a process's output. command_executor, ssh_executor and docker_executor
 * (through the Docker API client) each keep stdout and stderr up to `maxOutputBytes` and
 * report `truncated` when more came, and quote only the end of it in their errors; this is
 * the one place that does the cutting.
 */

export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** The `maxOutputBytes` input, as each of those executors' input schema has it. */
export const maxOutputBytesSchema = {
  type: "integer",
  minimum: 0,
  default: DEFAULT_MAX_OUTPUT_BYTES,
  description: "Bytes kept of stdout and of stderr each; the rest is dropped and `truncated` is set.",
};

/** Keeps the first `max` bytes pushed and notes whether more came. */
export class CappedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    const room = this.max - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    // Copied, so the (possibly much larger) chunk it was cut from can be freed.
    this.chunks.push(Buffer.from(kept));
    this.size += kept.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/** The last `chars` characters of `text`, marked with "..." when cut: the end of an output says why it failed. */
export function tail(text: string, chars: number): string {
  return text.length <= chars ? text : `...${text.slice(-chars)}`;
}
