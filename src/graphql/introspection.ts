import { type ExecutionResult, GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import type { Principal } from '../auth/principal.ts';

/** The " Did you mean …?" tail that graphql-js adds to validation errors about unknown names. */
const suggestion = /\s*Did you mean .*\?$/s;

/**
 * In production (`enabled`), lets only the admin introspect the schema or see suggestions of
 * names, so other callers cannot list the API by probing. Validation errors and the errors of
 * invalid variables, which graphql-js reports at execution, lose their suggestions.
 */
export function useAdminOnlyIntrospection(enabled: boolean): Plugin<{ principal?: Principal }> {
  const hidesFrom = (principal: Principal | undefined) => enabled && principal?.kind !== 'admin';
  const stripResult = ({ result, setResult }: { result: ExecutionResult; setResult(result: ExecutionResult): void }) => {
    if (result.errors?.some((error) => suggestion.test(error.message))) setResult({ ...result, errors: result.errors.map((error) => withoutSuggestion(error)) });
  };
  return {
    onValidate({ context, addValidationRule }) {
      if (!hidesFrom(context.principal)) return;
      addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((error) => withoutSuggestion(error)));
      };
    },
    onExecute({ args }) {
      if (!hidesFrom((args.contextValue as { principal?: Principal }).principal)) return;
      return { onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, stripResult) };
    },
    onSubscribe({ args }) {
      if (!hidesFrom((args.contextValue as { principal?: Principal }).principal)) return;
      return { onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, stripResult) };
    },
  };
}

function withoutSuggestion<T extends Error>(error: T): T | GraphQLError {
  if (!suggestion.test(error.message)) return error;
  if (!(error instanceof GraphQLError)) return new GraphQLError(error.message.replace(suggestion, ''));
  return new GraphQLError(error.message.replace(suggestion, ''), {
    nodes: error.nodes ?? null,
    path: error.path ?? null,
    originalError: error.originalError ?? null,
    extensions: error.extensions,
  });
}
