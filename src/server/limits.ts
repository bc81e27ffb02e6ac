/**
 * Guards against operations that would be expensive to run: too deep, too costly
 * (estimated before execution), or too large a request body. Each rejection says
 * which limit was hit, by how much, and which setting raises it.
 */
import {
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  type GraphQLNamedType,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type OperationTypeNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

export interface OperationLimits {
  /** Deepest selection nesting allowed (APFLOW_GRAPHQL_MAX_DEPTH). */
  maxDepth: number;
  /** Highest estimated cost allowed (APFLOW_GRAPHQL_MAX_COST). */
  maxCost: number;
  /** Assumed size of a list field without `first`/`last` when estimating cost. */
  assumedListSize: number;
}

export const DEFAULT_LIMITS: OperationLimits = { maxDepth: 16, maxCost: 2_000_000, assumedListSize: 20 };

export function limitRules(limits: OperationLimits): ValidationRule[] {
  return [depthRule(limits), costRule(limits)];
}

function depthRule(limits: OperationLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const depth = measure(
        context,
        node.operation,
        node.selectionSet,
        (_field, _type, childDepth) => 1 + childDepth,
        Math.max,
      );
      if (depth > limits.maxDepth) {
        context.reportError(
          new GraphQLError(
            `The operation is ${depth} levels deep; the limit is ${limits.maxDepth} (setting APFLOW_GRAPHQL_MAX_DEPTH).`,
            { nodes: [node], extensions: { code: "QUERY_TOO_DEEP", depth, limit: limits.maxDepth } },
          ),
        );
      }
    },
  });
}

function costRule(limits: OperationLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const cost = measure(
        context,
        node.operation,
        node.selectionSet,
        (field, fieldDef, childCost) => {
          const multiplier = pageSize(field) ?? (fieldDef && returnsList(fieldDef) ? limits.assumedListSize : 1);
          return multiplier * (1 + childCost);
        },
        (a, b) => a + b,
      );
      if (cost > limits.maxCost) {
        context.reportError(
          new GraphQLError(
            `The operation's estimated cost is ${cost}; the limit is ${limits.maxCost} (setting APFLOW_GRAPHQL_MAX_COST). Ask for smaller pages or fewer nested lists.`,
            { nodes: [node], extensions: { code: "QUERY_TOO_COSTLY", cost, limit: limits.maxCost } },
          ),
        );
      }
    },
  });
}

/**
 * Folds a selection set bottom-up: `field` turns a field and its children's value
 * into the field's value, `combine` merges siblings. Fragments are followed (once
 * per path, so a cycle cannot loop; cycles are reported by GraphQL's own rules).
 */
function measure(
  context: ValidationContext,
  operation: OperationTypeNode,
  root: SelectionSetNode,
  field: (node: FieldNode, def: GraphQLField<unknown, unknown> | undefined, children: number) => number,
  combine: (a: number, b: number) => number,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of context.getDocument().definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  const schema = context.getSchema();
  const walk = (set: SelectionSetNode, parent: GraphQLNamedType | undefined, seen: Set<string>): number => {
    let total = 0;
    for (const selection of set.selections) {
      let value = 0;
      if (selection.kind === Kind.FIELD) {
        const def =
          parent && (isObjectType(parent) || isInterfaceType(parent))
            ? parent.getFields()[selection.name.value]
            : undefined;
        const childType = def ? getNamedType(def.type) : undefined;
        const children = selection.selectionSet ? walk(selection.selectionSet, childType, seen) : 0;
        value = field(selection, def, children);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        value = walk(selection.selectionSet, type ?? undefined, seen);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !seen.has(fragment.name.value)) {
          const type = schema.getType(fragment.typeCondition.name.value) ?? undefined;
          value = walk(fragment.selectionSet, type, new Set([...seen, fragment.name.value]));
        }
      }
      total = combine(total, value);
    }
    return total;
  };
  return walk(root, schema.getRootType(operation) ?? undefined, new Set());
}

function pageSize(field: FieldNode): number | undefined {
  for (const arg of field.arguments ?? []) {
    if ((arg.name.value === "first" || arg.name.value === "last") && arg.value.kind === Kind.INT) {
      return Number(arg.value.value);
    }
  }
  return undefined;
}

function returnsList(def: GraphQLField<unknown, unknown>): boolean {
  return isListType(getNullableType(def.type));
}
