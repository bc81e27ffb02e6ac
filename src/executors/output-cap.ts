/**
 * Bounded capture of a process's output. command_executor, ssh_executor and the Docker
 * API client each keep stdout and stderr up to `maxOutputBytes` and report `truncated`
 * when more came; this is the one place that does the cutting.
 */

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
