/** How the executor tests' HTTP(S) peers listen on loopback and close. */
import { once } from "node:events";
import type http from "node:http";
import type https from "node:https";
import type { AddressInfo } from "node:net";

export interface Listening {
  port: number;
  /** Closes the server, cutting open connections first: a kept-alive or hanging one would hold the close up. */
  close(): Promise<void>;
}

/** Listens on a free port of 127.0.0.1. */
export async function listenOnLoopback(server: http.Server | https.Server): Promise<Listening> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
