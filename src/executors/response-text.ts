/**
 * A bounded read of a small HTTP answer (JSON from a GraphQL node, an e-mail API or the
 * Docker engine): a peer that sends without end must not fill the node's memory.
 */
import type { IncomingMessage } from "node:http";

/**
 * The response body as text, at most `maxBytes`. Past that the response is destroyed and
 * `tooLarge()` thrown, or, without `tooLarge`, what came up to the chunk that went over is kept.
 */
export async function readText(response: IncomingMessage, maxBytes: number, tooLarge?: () => Error): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      response.destroy();
      if (tooLarge) throw tooLarge();
      break;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
