/**
 * The HTTP server: GraphQL over HTTP (graphql-yoga, with GraphiQL in a browser) and
 * GraphQL over WebSocket (graphql-ws) on the same port and path, `/graphql`.
 * `buildApp` gives tests and the CLI a server they can start and stop.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type ExecutionArgs, type ExecutionResult, type GraphQLError, parse, specifiedRules, validate } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createYoga, type Plugin } from "graphql-yoga";
import { WebSocketServer } from "ws";
import type { Apflow } from "../apflow.js";
import { createContext } from "../graphql/context.js";
import { maskError } from "../graphql/errors.js";
import { subscribeWithFanOut } from "../graphql/fan-out.js";
import { schema } from "../graphql/schema.js";
import { createSharedLoaders } from "../graphql/shared-loaders.js";
import { takeWebhookRate } from "../storage/sql/webhook-rates.js";
import { rememberSignature } from "../storage/sql/webhook-replays.js";
import { authenticateConnection, bearerTokenMatches, isGraphiQLPage, refuseUnauthenticated } from "./auth.js";
import { DEFAULT_LIMITS, limitRules, type OperationLimits } from "./limits.js";
import { deliverSubscription } from "./subscription-delivery.js";
import { createScheduleWebhook, WEBHOOK_PATH_PREFIX, type WebhookSettings } from "./webhook.js";

export const GRAPHQL_PATH = "/graphql";

export interface AppOptions {
  apflow: Apflow;
  /** @defaultValue 4000 (0 picks a free port) */
  port?: number;
  /** @defaultValue "127.0.0.1" */
  host?: string;
  limits?: Partial<OperationLimits>;
  /** Largest request body or WebSocket message accepted. @defaultValue 5 MiB */
  maxBodyBytes?: number;
  /** Bearer token every GraphQL request must carry (unset: none). @defaultValue apflow.config.api.token */
  apiToken?: string;
  /** The schedule webhook's secret, timestamp tolerance and rate. @defaultValue apflow.config.webhook */
  webhook?: WebhookSettings;
}

export interface App {
  readonly server: Server;
  /** `http://host:port/graphql` once started. */
  readonly url: string;
  /** The same endpoint for WebSocket clients. */
  readonly wsUrl: string;
  start(): Promise<string>;
  /** Closes every connection and subscription; the Apflow instance stays open. */
  stop(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;

export function buildApp(options: AppOptions): App {
  const { apflow } = options;
  const logger = apflow.logger.child({ component: "server" });
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const rules = limitRules(limits);
  const shared = createSharedLoaders(apflow.database.prisma);
  const maskResult = (result: ExecutionResult) =>
    result.errors ? { ...result, errors: result.errors.map((e) => maskError(e, logger).toJSON()) } : result;

  const addLimitRules: Plugin = {
    onValidate: ({ addValidationRule }) => {
      for (const rule of rules) addValidationRule(rule);
    },
  };
  const yoga = createYoga({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context: () => createContext(apflow, shared),
    maskedErrors: { maskError: (error) => maskError(error, logger) },
    graphiql: { subscriptionsProtocol: "WS", title: "apflow" },
    landingPage: false,
    logging: {
      debug: (...args) => logger.debug(String(args[0])),
      info: (...args) => logger.info(String(args[0])),
      warn: (...args) => logger.warn(String(args[0])),
      // Yoga reports every GraphQL error here, client mistakes included; unexpected
      // ones are logged at error level by maskError.
      error: (...args) => logger.debug(String(args[0])),
    },
    plugins: [addLimitRules],
  });

  const apiToken = options.apiToken ?? apflow.config.api.token;
  const webhook = createScheduleWebhook({
    schedules: apflow.schedules,
    settings: options.webhook ?? apflow.config.webhook,
    rememberSignature: (hash, keepMs) => apflow.database.sql.transaction((tx) => rememberSignature(tx, hash, keepMs)),
    takeRate: (key, perMinute) => apflow.database.sql.transaction((tx) => takeWebhookRate(tx, key, perMinute)),
    logger,
  });

  const server = createServer((req, res) => {
    // The webhook authenticates with its signature, not the API token.
    if (req.url?.startsWith(WEBHOOK_PATH_PREFIX)) return void webhook(req, res);
    if (apiToken !== undefined && !isGraphiQLPage(req) && !bearerTokenMatches(apiToken, req.headers.authorization)) {
      return refuseUnauthenticated(res);
    }
    if (!bodyWithinLimit(req, res, maxBodyBytes)) return;
    void yoga.handle(req, res);
  });

  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH, maxPayload: maxBodyBytes });
  const disposeWs = useServer(
    {
      schema,
      context: () => createContext(apflow, shared),
      ...(apiToken === undefined ? {} : { onConnect: authenticateConnection(apiToken) }),
      // One execution per event and selection, shared by every subscriber of it.
      subscribe: subscribeWithFanOut,
      onSubscribe: (_ctx, _id, payload): ExecutionArgs | readonly GraphQLError[] => {
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [maskError(error, logger)];
        }
        const errors = validate(schema, document, [...specifiedRules, ...rules]);
        if (errors.length > 0) return errors.map((e) => maskError(e, logger));
        return {
          schema,
          document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue: createContext(apflow, shared),
        };
      },
      // Subscriptions' results are written by deliverSubscription, masked the same way.
      onOperation: (ctx, id, _payload, _args, result) =>
        Symbol.asyncIterator in result ? deliverSubscription(ctx.extra, id, result, maskResult) : undefined,
      onNext: (_ctx, _id, _payload, _args, result) => maskResult(result),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => maskError(e, logger).toJSON()),
    },
    wss,
  );

  let url = "";
  let wsUrl = "";
  return {
    server,
    get url() {
      return url;
    },
    get wsUrl() {
      return wsUrl;
    },
    async start() {
      const host = options.host ?? "127.0.0.1";
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 4000, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      const { port } = server.address() as AddressInfo;
      const shown = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "localhost" : host;
      url = `http://${shown}:${port}${GRAPHQL_PATH}`;
      wsUrl = url.replace(/^http/, "ws");
      return url;
    },
    async stop() {
      await disposeWs.dispose();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Refuses bodies over the limit before reading them, and bodies of unknown length
 * (chunked), which could otherwise grow without bound.
 */
function bodyWithinLimit(req: IncomingMessage, res: ServerResponse, maxBodyBytes: number): boolean {
  if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return true;
  const length = req.headers["content-length"];
  if (length === undefined) {
    reject(res, 411, "REQUEST_LENGTH_REQUIRED", "Send a Content-Length header with the request body.");
    return false;
  }
  if (Number(length) > maxBodyBytes) {
    reject(
      res,
      413,
      "REQUEST_TOO_LARGE",
      `The request body is ${length} bytes; the limit is ${maxBodyBytes} (raise it with APFLOW_GRAPHQL_MAX_BODY_BYTES).`,
    );
    return false;
  }
  return true;
}

function reject(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "application/json", connection: "close" });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}
