import { MapperKind, mapSchema, printSchemaWithDirectives } from '@graphql-tools/utils';
import {
  DirectiveLocation,
  GraphQLDirective,
  type GraphQLEnumType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLSchema,
  lexicographicSortSchema,
} from 'graphql';
import { builder } from './builder.ts';
import './types/access.ts';
import './types/queue.ts';
import './types/message.ts';
import './types/publish.ts';
import './types/stream.ts';
import './types/work-queue.ts';
import './types/signing.ts';

let schema: GraphQLSchema | undefined;

/**
 * Builds the schema once; the type modules above register their fields on import. The `@auth` and
 * `@queueAction` directives that fields carry are defined here, so the printed schema shows who
 * may call each field. The scope-auth plugin enforces them.
 */
export function buildSchema(): GraphQLSchema {
  if (schema) return schema;
  const built = builder.toSchema({ sortSchema: true });
  const requirement = built.getType('AuthRequirement') as GraphQLEnumType;
  const action = built.getType('QueueAction') as GraphQLEnumType;
  const directives = [
    new GraphQLDirective({
      name: 'auth',
      description: 'Only these callers may use the field.',
      locations: [DirectiveLocation.FIELD_DEFINITION],
      args: { requires: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(requirement))) } },
    }),
    new GraphQLDirective({
      name: 'queueAction',
      description: 'The caller needs a grant for this action on the queue that the field names.',
      locations: [DirectiveLocation.FIELD_DEFINITION],
      args: { action: { type: new GraphQLNonNull(action) } },
    }),
  ];
  schema = lexicographicSortSchema(new GraphQLSchema({ ...built.toConfig(), directives: [...built.getDirectives(), ...directives] }));
  return schema;
}

/**
 * Returns the schema as SDL with the directives applied to its fields. The fields' AST nodes are
 * dropped first: Pothos writes directive arguments there as strings, and the printer prefers them
 * to the extension values, which it prints with the argument's enum type.
 */
export function printEvqSchema(): string {
  const withoutAstNodes = mapSchema(buildSchema(), {
    [MapperKind.OBJECT_FIELD]: (field) => ({ ...field, astNode: undefined }),
  });
  return `${printSchemaWithDirectives(withoutAstNodes)}\n`;
}
