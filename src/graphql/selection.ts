/**
 * What a field's own selection asks for, read from the query itself.
 */
import { type GraphQLResolveInfo, Kind } from "graphql";

/**
 * Whether the field asks for nothing of its object but `id` (and `__typename`), so
 * an id already at hand answers it without reading the object. Fragments count as
 * asking for more (they are not looked into).
 */
export function selectsIdOnly(info: GraphQLResolveInfo): boolean {
  return info.fieldNodes.every((node) =>
    (node.selectionSet?.selections ?? []).every(
      (s) => s.kind === Kind.FIELD && (s.name.value === "id" || s.name.value === "__typename"),
    ),
  );
}
