/**
 * GraphQL Code Generator: typed documents for every `graphql(...)` call in the
 * project, from the committed schema.graphql. Run `npm run codegen` after changing
 * the schema or an operation; test/graphql/generated.test.ts checks it is current.
 */
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["src/**/*.ts", "test/**/*.ts", "examples/**/*.ts", "bench/**/*.ts", "!src/client/gql/**"],
  ignoreNoDocuments: true,
  emitLegacyCommonJSImports: false,
  generates: {
    "src/client/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: "string", JSON: "unknown", ID: "string" },
        enumsAsTypes: true,
        useTypeImports: true,
        skipTypename: true,
      },
    },
  },
};

export default config;
