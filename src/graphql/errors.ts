/**
 * How errors reach clients: an ApflowError keeps its message and puts its code
 * (and, for validation, every problem) in `extensions`; errors GraphQL itself
 * raises (syntax, validation, limits) pass through; anything else is masked as
 * "Unexpected error." and logged, so internals never leak.
 */
import { GraphQLError } from "graphql";
import { ApflowError } from "../core/errors.js";
import type { Logger } from "../core/executor.js";

export const INTERNAL_ERROR_CODE = "INTERNAL_SERVER_ERROR";

export function maskError(error: unknown, logger: Logger): GraphQLError {
  const graphqlError = error instanceof GraphQLError ? error : null;
  const original = graphqlError?.originalError ?? error;
  if (original instanceof ApflowError) {
    return new GraphQLError(original.message, {
      nodes: graphqlError?.nodes,
      path: graphqlError?.path,
      extensions: {
        code: original.code,
        ...(original.problems.length > 0 ? { problems: original.problems } : {}),
      },
    });
  }
  if (graphqlError && (!graphqlError.originalError || graphqlError.originalError instanceof GraphQLError)) {
    // Raised by GraphQL itself (parse, validation, our limit rules, variable coercion).
    const code = graphqlError.extensions?.code ?? "GRAPHQL_VALIDATION_FAILED";
    return new GraphQLError(graphqlError.message, {
      nodes: graphqlError.nodes,
      path: graphqlError.path,
      extensions: { ...graphqlError.extensions, code },
    });
  }
  logger.error("unexpected error in a GraphQL operation", { error: original, path: graphqlError?.path?.join(".") });
  return new GraphQLError("Unexpected error.", {
    nodes: graphqlError?.nodes,
    path: graphqlError?.path,
    extensions: { code: INTERNAL_ERROR_CODE },
  });
}
