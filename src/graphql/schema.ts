import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';
import './types/queue.ts';
import './types/message.ts';
import './types/publish.ts';
import './types/stream.ts';
import './types/work-queue.ts';

let schema: GraphQLSchema | undefined;

/** Builds the schema once; the type modules above register their fields on import. */
export function buildSchema(): GraphQLSchema {
  schema ??= builder.toSchema({ sortSchema: true });
  return schema;
}
