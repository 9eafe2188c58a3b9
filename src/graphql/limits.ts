import { GraphQLError } from 'graphql';

/** A quantity that a graphql-armor plugin measures, named as in the error's extensions. */
export type DocumentMeasure = 'depth' | 'aliases' | 'tokens' | 'cost';

/**
 * Rejection options for a graphql-armor limit plugin: they reject an over-limit document with BAD_USER_INPUT
 * and `extensions { limit, <measure> }`. graphql-armor 2.x itself throws a GraphQLError whose
 * message starts with "Syntax Error:" and that carries no extensions.
 */
export function armorRejection(measure: DocumentMeasure, limit: number) {
  return {
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [
      (_context: unknown, error: GraphQLError) => {
        throw limitError(measure, limit, error);
      },
    ],
  };
}

function limitError(measure: DocumentMeasure, limit: number, rejection: GraphQLError): GraphQLError {
  const found = /found (\d+)/.exec(rejection.message)?.[1];
  return new GraphQLError(rejection.message.replace(/^Syntax Error: /, ''), {
    extensions: { code: 'BAD_USER_INPUT', limit, ...(found === undefined ? {} : { [measure]: Number(found) }) },
  });
}
