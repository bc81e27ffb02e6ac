/**
 * Subscription execution shared between subscribers. graphql-js executes the
 * selection once per event per subscriber: 1,000 dashboards on one tree cost
 * 1,000 executions of the same selection over the same event. Here an event is
 * executed once per distinct selection (document, operation, and the variables the
 * selection reads) and every subscriber with that selection gets the same result.
 *
 * The memo is keyed by the event object itself, so only subscribers fed the very
 * same object share: live events from the bus (one object for every listener) and
 * rows from a shared loader batch. Events a subscriber reads from storage on its own
 * (replay after `after`, gap fill) are new objects and executed for it alone.
 *
 * Relies on subscription fields passing the event through as their value
 * (`resolve: (event) => event`): the root field's own arguments only choose the
 * stream, so subscribers that differ only there (a different `after`) share too.
 * The result is computed with the first subscriber's context: nothing in a
 * context changes what a resolver returns (the API token admits a connection or
 * not). A per-caller context (users, permissions) would have to join the key.
 */
import {
  type ASTNode,
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  print,
  type SelectionSetNode,
  visit,
} from "graphql";

type Results = Map<string, ExecutionResult | Promise<ExecutionResult>>;

/**
 * A stream that can also hand over, without waiting, the values it already holds
 * (TreeEventStream does, for a burst of live events). Each taken value counts as
 * received: the caller delivers every one, in order.
 */
export interface ReadyValues<T> {
  takeReady(): T[];
}

/** What subscribeWithFanOut returns for a subscription. */
export type SharedResultStream = AsyncGenerator<ExecutionResult> &
  ReadyValues<ExecutionResult | Promise<ExecutionResult>>;

/** Results per event object and selection key; an entry goes when its event is collected. */
const executed = new WeakMap<object, Results>();

/**
 * Drop-in for graphql-js `subscribe` (graphql-ws's `subscribe` option): the same
 * source stream, each event mapped to a result through the shared memo.
 */
export async function subscribeWithFanOut(args: ExecutionArgs): Promise<SharedResultStream | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source; // errors before the stream started
  const key = selectionKey(args);
  return mapStream(source[Symbol.asyncIterator](), (event) => executeShared(args, key, event));
}

function executeShared(args: ExecutionArgs, key: string, event: unknown): ExecutionResult | Promise<ExecutionResult> {
  if (typeof event !== "object" || event === null) return execute({ ...args, rootValue: event });
  let results = executed.get(event);
  if (!results) {
    results = new Map();
    executed.set(event, results);
  }
  let result = results.get(key);
  if (!result) {
    result = execute({ ...args, rootValue: event });
    results.set(key, result);
  }
  return result;
}

/**
 * What decides a result besides the event: the document's text, the operation,
 * and the values of the variables the selection reads. Variables used only as
 * arguments of the subscription field itself are left out (see above).
 */
function selectionKey(args: ExecutionArgs): string {
  const { document, operationName, variableValues } = args;
  const used = [...selectionVariables(document, operationName ?? undefined)].sort();
  // An omitted variable (its default applies) must not look like an explicit null.
  const values = used.map((name) => (variableValues && name in variableValues ? [name, variableValues[name]] : [name]));
  return JSON.stringify([operationName ?? null, values, document.loc?.source.body ?? print(document)]);
}

/** Names of the variables read anywhere in the operation except the root fields' arguments. */
function selectionVariables(document: DocumentNode, operationName: string | undefined): Set<string> {
  const names = new Set<string>();
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  // Each fragment is read once: a fragment on the subscription type only appears at
  // the root, any other only below it, so one visit per fragment is enough.
  const visited = new Set<string>();
  const fragment = (name: string) => {
    if (visited.has(name)) return undefined;
    visited.add(name);
    return fragments.get(name);
  };
  const collect = (node: ASTNode): void => {
    visit(node, {
      Variable: (variable) => {
        names.add(variable.name.value);
      },
      FragmentSpread: (spread) => {
        const definition = fragment(spread.name.value);
        if (definition) collect(definition);
      },
    });
  };
  const rootLevel = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      for (const directive of selection.directives ?? []) collect(directive);
      if (selection.kind === Kind.FIELD) {
        if (selection.selectionSet) collect(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        rootLevel(selection.selectionSet);
      } else {
        const definition = fragment(selection.name.value);
        if (definition) rootLevel(definition.selectionSet);
      }
    }
  };
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode =>
      d.kind === Kind.OPERATION_DEFINITION && (operationName === undefined || d.name?.value === operationName),
  );
  if (operation) {
    for (const directive of operation.directives ?? []) collect(directive);
    rootLevel(operation.selectionSet);
  }
  return names;
}

/**
 * The source stream with each value mapped. Hand-written rather than an async
 * generator so that `return()` (the client unsubscribed) reaches the source at
 * once, even while it waits for its next event.
 */
function mapStream(
  source: AsyncIterator<unknown> & Partial<ReadyValues<unknown>>,
  map: (value: unknown) => ExecutionResult | Promise<ExecutionResult>,
): SharedResultStream {
  const finished: IteratorResult<ExecutionResult> = { value: undefined, done: true };
  const close = async (): Promise<IteratorResult<ExecutionResult>> => {
    await source.return?.();
    return finished;
  };
  const failed = async (error: unknown): Promise<never> => {
    await close();
    throw error;
  };
  const step = (value: ExecutionResult): IteratorResult<ExecutionResult> => ({ value, done: false });
  const stream: SharedResultStream = {
    // Promise chains rather than async/await: a shared result is usually ready at
    // once, and each await would cost every subscriber another microtask per event.
    next: () =>
      source.next().then((event) => {
        if (event.done) return finished;
        try {
          const result = map(event.value);
          return result instanceof Promise ? result.then(step, failed) : step(result);
        } catch (error) {
          return failed(error);
        }
      }),
    takeReady: () => source.takeReady?.().map(map) ?? [],
    return: close,
    async throw(error: unknown) {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
