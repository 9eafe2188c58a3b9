import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Generates typed GraphQL operations from schema/schema.graphql for the documents written with
 * `graphql(...)` in examples/ and test/. Run `npm run codegen` after changing the schema or an
 * operation, and commit src/client/gql/.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['examples/**/*.ts', 'test/**/*.ts', '!src/client/gql/**'],
  ignoreNoDocuments: true,
  generates: {
    'src/client/gql/': {
      preset: 'client',
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        importExtension: '.ts',
        scalars: { JSON: 'unknown', DateTime: 'string', Cursor: 'string' },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
