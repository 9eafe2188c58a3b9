import SchemaBuilder from '@pothos/core';
import { GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { Context } from './context.ts';

export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date };
    Cursor: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}>({
  defaultFieldNullability: false,
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
