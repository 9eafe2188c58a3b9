import { GraphQLError } from 'graphql';
import { type Plugin, handleStreamOrSingleExecutionResult } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import { type ErrorCode, errorCodes, isEvqError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';

/** Detail values longer than this (as JSON) are left out of `extensions`, so errors stay small. */
const maxDetailLength = 512;

function isKnownCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && code in errorCodes;
}

/**
 * Turns any error that reaches the client into a GraphQLError with a known `extensions.code`.
 * EvqErrors keep their message and details; unknown errors become INTERNAL with the request id,
 * and the original is logged.
 */
export function maskError(error: unknown, logger: Logger, requestId: string | undefined): GraphQLError {
  const graphqlError = error instanceof GraphQLError ? error : null;
  const original = graphqlError?.originalError ?? error;

  if (isEvqError(original)) {
    const extensions: Record<string, unknown> = { code: original.code, retryable: original.retryable };
    for (const [name, value] of Object.entries(original.details)) {
      const json = JSON.stringify(value);
      if (json !== undefined && json.length <= maxDetailLength) extensions[name] = value;
    }
    if (original.code === 'UNAUTHENTICATED') extensions.http = { status: 401 };
    return new GraphQLError(original.message, {
      nodes: graphqlError?.nodes ?? null,
      path: graphqlError?.path ?? null,
      extensions,
    });
  }

  if (graphqlError && (graphqlError.originalError == null || graphqlError.originalError instanceof GraphQLError)) {
    // Errors from parsing, validation and variable coercion: the caller's document is at fault.
    const code = graphqlError.extensions.code;
    if (isKnownCode(code)) return graphqlError;
    return new GraphQLError(graphqlError.message, {
      nodes: graphqlError.nodes ?? null,
      path: graphqlError.path ?? null,
      extensions: { ...graphqlError.extensions, code: 'BAD_USER_INPUT' },
    });
  }

  logger.error({ err: original, requestId }, 'unexpected error in a resolver');
  return new GraphQLError(`Internal server error (request id ${requestId ?? 'unknown'}).`, {
    nodes: graphqlError?.nodes ?? null,
    path: graphqlError?.path ?? null,
    extensions: { code: 'INTERNAL', requestId },
  });
}

function maskResult(
  result: ExecutionResult,
  setResult: (result: ExecutionResult) => void,
  logger: Logger,
  metrics: Metrics,
  requestId: string | undefined,
): void {
  if (!result.errors || result.errors.length === 0) return;
  const errors = result.errors.map((error) => {
    const masked = maskError(error, logger, requestId);
    metrics.errors.inc({ code: String(masked.extensions.code) });
    return masked;
  });
  setResult({ ...result, errors });
}

/**
 * Masks errors of executed operations, queries and mutations as well as each event of a
 * subscription, on every transport (HTTP, SSE and graphql-ws), with the request id of the context.
 */
export function useMaskedErrors(logger: Logger, metrics: Metrics): Plugin<{ requestId?: string }> {
  return {
    onExecute({ args }) {
      const requestId = args.contextValue.requestId;
      return {
        onExecuteDone(payload) {
          return handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) =>
            maskResult(result, setResult, logger, metrics, requestId),
          );
        },
      };
    },
    onSubscribe({ args }) {
      const requestId = args.contextValue.requestId;
      return {
        onSubscribeResult(payload) {
          return handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) =>
            maskResult(result, setResult, logger, metrics, requestId),
          );
        },
        onSubscribeError({ error, setError }) {
          setError(maskError(error, logger, requestId));
        },
      };
    },
  };
}

/**
 * Gives every error in a response a code from the registry, also those that Yoga and the
 * GraphQL armor plugins raise before execution (invalid JSON, unknown fields, depth limits), and
 * counts them by code.
 */
export function useErrorCodes(logger: Logger, metrics: Metrics): Plugin {
  return {
    onResultProcess({ request, result, setResult }) {
      if (Array.isArray(result) || !result || typeof result !== 'object' || !('errors' in result) || !result.errors) return;
      const requestId = request.headers.get('x-request-id') ?? undefined;
      const errors = result.errors.map((error) => {
        const status = (error.extensions?.http as { status?: number } | undefined)?.status;
        if (isKnownCode(error.extensions?.code)) return error;
        let masked = maskError(error, logger, requestId);
        if (status === 413) {
          masked = new GraphQLError(error.message, { extensions: { ...masked.extensions, code: 'PAYLOAD_TOO_LARGE' } });
        }
        metrics.errors.inc({ code: String(masked.extensions.code) });
        return masked;
      });
      setResult({ ...result, errors });
    },
  };
}
