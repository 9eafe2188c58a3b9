import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { AccessRequest } from '../auth/grants.ts';
import type { QueueAction } from '../auth/principal.ts';
import { EvqError } from '../errors.ts';
import type { Context } from './context.ts';

/** A caller allowed to use a field, as printed in `@auth(requires: …)`. */
export type AuthRequirement = 'ADMIN' | 'SERVICE' | 'SERVICE_API_KEY' | 'AUTHENTICATED';

/** A queue operation, checked by the `queueAction` scope. */
export type QueueActionScope = AccessRequest;

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: {
    admin: boolean;
    service: boolean;
    serviceApiKey: boolean;
    authenticated: boolean;
    queueAction: QueueActionScope;
  };
  Directives: {
    auth: { locations: 'FIELD_DEFINITION'; args: { requires: AuthRequirement[] } };
    queueAction: { locations: 'FIELD_DEFINITION'; args: { action: QueueAction } };
  };
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date };
    Cursor: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}>({
  plugins: [ScopeAuthPlugin, DirectivesPlugin],
  // The object form is what @graphql-tools/utils reads when it prints the schema with directives.
  directives: { useGraphQLToolsUnorderedDirectives: true },
  defaultFieldNullability: false,
  scopeAuth: {
    // Subscriptions are checked when they start, not on each event.
    authorizeOnSubscribe: true,
    cacheKey: (value) => JSON.stringify(value),
    authScopes: (ctx) => ({
      admin: ctx.principal.kind === 'admin',
      service: ctx.principal.kind === 'service',
      serviceApiKey: ctx.principal.credentialType === 'apiKey',
      authenticated: true,
      // Throws FORBIDDEN with the reason, which reaches the caller unchanged.
      queueAction: (request) => {
        ctx.access.authorize(ctx.principal, request);
        return true;
      },
    }),
    unauthorizedError: (_parent, ctx, info) =>
      new EvqError('FORBIDDEN', `Forbidden: ${info.parentType.name}.${info.fieldName} is not allowed for ${ctx.principal.id}.`, {
        principal: ctx.principal.id,
        field: `${info.parentType.name}.${info.fieldName}`,
      }),
  },
});

builder.addScalarType('JSON', JSONResolver);
builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType(
  'Cursor',
  new GraphQLScalarType<string, string>({
    name: 'Cursor',
    description: 'An opaque position in a queue\'s stream, as returned by evq. Pass it back unchanged.',
    serialize: (value) => String(value),
    parseValue: (value) => {
      if (typeof value !== 'string') throw new TypeError('Cursor must be a string.');
      return value;
    },
    parseLiteral: (ast) => {
      if (ast.kind !== Kind.STRING) throw new TypeError('Cursor must be a string.');
      return ast.value;
    },
  }),
);

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
