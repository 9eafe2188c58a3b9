import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Principal } from '../auth/principal.ts';

/** The " Did you mean …?" tail that graphql-js adds to validation errors about unknown names. */
const suggestion = /\s*Did you mean .*\?$/s;

/**
 * In production (`enabled`), lets only the admin introspect the schema or see field suggestions,
 * so other callers cannot list the API by probing. Validation errors lose their suggestions.
 */
export function useAdminOnlyIntrospection(enabled: boolean): Plugin<{ principal?: Principal }> {
  return {
    onValidate({ context, addValidationRule }) {
      if (!enabled || context.principal?.kind === 'admin') return;
      addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ result, setResult }) => {
        if (result.length === 0) return;
        setResult(
          result.map((error) =>
            suggestion.test(error.message)
              ? new GraphQLError(error.message.replace(suggestion, ''), { nodes: error.nodes ?? null, extensions: error.extensions })
              : error,
          ),
        );
      };
    },
  };
}
