/* eslint-disable */
import * as types from './graphql.ts';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation CreateQueue($input: CreateQueueInput!) {\n    createQueue(input: $input) {\n      name\n      partitions\n      visibilityTimeoutSeconds\n      maxAttempts\n    }\n  }\n": typeof types.CreateQueueDocument,
    "\n  mutation Publish($queue: String!, $message: PublishInput!) {\n    publish(queue: $queue, message: $message) {\n      id\n      queue\n      cursor\n      duplicate\n    }\n  }\n": typeof types.PublishDocument,
    "\n  mutation Receive($queue: String!, $group: String! = \"default\", $limit: Int! = 10, $waitSeconds: Int! = 20) {\n    receive(queue: $queue, group: $group, limit: $limit, waitSeconds: $waitSeconds) {\n      receipt\n      attempt\n      visibleUntil\n      message {\n        id\n        key\n        data\n        publishedAt\n      }\n    }\n  }\n": typeof types.ReceiveDocument,
    "\n  mutation Ack($queue: String!, $receipts: [String!]!) {\n    ack(queue: $queue, receipts: $receipts) {\n      receipt\n      acked\n      code\n    }\n  }\n": typeof types.AckDocument,
    "\n  mutation Nack($queue: String!, $receipt: String!, $delaySeconds: Int! = 0, $error: String) {\n    nack(queue: $queue, receipt: $receipt, delaySeconds: $delaySeconds, error: $error)\n  }\n": typeof types.NackDocument,
    "\n  subscription Messages($queue: String!, $after: Cursor, $from: StreamStart) {\n    messages(queue: $queue, after: $after, from: $from) {\n      id\n      key\n      data\n      publishedAt\n      cursor\n    }\n  }\n": typeof types.MessagesDocument,
};
const documents: Documents = {
    "\n  mutation CreateQueue($input: CreateQueueInput!) {\n    createQueue(input: $input) {\n      name\n      partitions\n      visibilityTimeoutSeconds\n      maxAttempts\n    }\n  }\n": types.CreateQueueDocument,
    "\n  mutation Publish($queue: String!, $message: PublishInput!) {\n    publish(queue: $queue, message: $message) {\n      id\n      queue\n      cursor\n      duplicate\n    }\n  }\n": types.PublishDocument,
    "\n  mutation Receive($queue: String!, $group: String! = \"default\", $limit: Int! = 10, $waitSeconds: Int! = 20) {\n    receive(queue: $queue, group: $group, limit: $limit, waitSeconds: $waitSeconds) {\n      receipt\n      attempt\n      visibleUntil\n      message {\n        id\n        key\n        data\n        publishedAt\n      }\n    }\n  }\n": types.ReceiveDocument,
    "\n  mutation Ack($queue: String!, $receipts: [String!]!) {\n    ack(queue: $queue, receipts: $receipts) {\n      receipt\n      acked\n      code\n    }\n  }\n": types.AckDocument,
    "\n  mutation Nack($queue: String!, $receipt: String!, $delaySeconds: Int! = 0, $error: String) {\n    nack(queue: $queue, receipt: $receipt, delaySeconds: $delaySeconds, error: $error)\n  }\n": types.NackDocument,
    "\n  subscription Messages($queue: String!, $after: Cursor, $from: StreamStart) {\n    messages(queue: $queue, after: $after, from: $from) {\n      id\n      key\n      data\n      publishedAt\n      cursor\n    }\n  }\n": types.MessagesDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateQueue($input: CreateQueueInput!) {\n    createQueue(input: $input) {\n      name\n      partitions\n      visibilityTimeoutSeconds\n      maxAttempts\n    }\n  }\n"): (typeof documents)["\n  mutation CreateQueue($input: CreateQueueInput!) {\n    createQueue(input: $input) {\n      name\n      partitions\n      visibilityTimeoutSeconds\n      maxAttempts\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Publish($queue: String!, $message: PublishInput!) {\n    publish(queue: $queue, message: $message) {\n      id\n      queue\n      cursor\n      duplicate\n    }\n  }\n"): (typeof documents)["\n  mutation Publish($queue: String!, $message: PublishInput!) {\n    publish(queue: $queue, message: $message) {\n      id\n      queue\n      cursor\n      duplicate\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Receive($queue: String!, $group: String! = \"default\", $limit: Int! = 10, $waitSeconds: Int! = 20) {\n    receive(queue: $queue, group: $group, limit: $limit, waitSeconds: $waitSeconds) {\n      receipt\n      attempt\n      visibleUntil\n      message {\n        id\n        key\n        data\n        publishedAt\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation Receive($queue: String!, $group: String! = \"default\", $limit: Int! = 10, $waitSeconds: Int! = 20) {\n    receive(queue: $queue, group: $group, limit: $limit, waitSeconds: $waitSeconds) {\n      receipt\n      attempt\n      visibleUntil\n      message {\n        id\n        key\n        data\n        publishedAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Ack($queue: String!, $receipts: [String!]!) {\n    ack(queue: $queue, receipts: $receipts) {\n      receipt\n      acked\n      code\n    }\n  }\n"): (typeof documents)["\n  mutation Ack($queue: String!, $receipts: [String!]!) {\n    ack(queue: $queue, receipts: $receipts) {\n      receipt\n      acked\n      code\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Nack($queue: String!, $receipt: String!, $delaySeconds: Int! = 0, $error: String) {\n    nack(queue: $queue, receipt: $receipt, delaySeconds: $delaySeconds, error: $error)\n  }\n"): (typeof documents)["\n  mutation Nack($queue: String!, $receipt: String!, $delaySeconds: Int! = 0, $error: String) {\n    nack(queue: $queue, receipt: $receipt, delaySeconds: $delaySeconds, error: $error)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Messages($queue: String!, $after: Cursor, $from: StreamStart) {\n    messages(queue: $queue, after: $after, from: $from) {\n      id\n      key\n      data\n      publishedAt\n      cursor\n    }\n  }\n"): (typeof documents)["\n  subscription Messages($queue: String!, $after: Cursor, $from: StreamStart) {\n    messages(queue: $queue, after: $after, from: $from) {\n      id\n      key\n      data\n      publishedAt\n      cursor\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;