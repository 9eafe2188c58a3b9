/**
 * The GraphQL operations that EvqClient's own methods send, with hand-written result types. They
 * are not in src/client/gql, whose documents codegen collects from examples/ and test/.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import type { MessageSignature, StorageSignature } from './signing.ts';

/** A stored message as evq returns it. */
export interface Message {
  id: string;
  queue: string;
  key: string | null;
  data: unknown;
  headers: Record<string, string>;
  publishedAt: string;
  deliverAt: string | null;
  /** The principal id of the publisher, or null when it has none. */
  producer: string | null;
  partition: number;
  offset: number;
  /** The stream position right after this message, null in work-queue deliveries. */
  cursor: string | null;
  /** evq's signature, null only for records stored before evq signed messages. */
  signature: StorageSignature | null;
}

/** A message as `publish` takes it. */
export interface PublishInput {
  /** Idempotency id. EvqClient.publish sets a random UUID when it is missing. */
  id?: string;
  data: unknown;
  key?: string | null;
  headers?: Record<string, string>;
  delaySeconds?: number;
  deliverAt?: string;
  signature?: MessageSignature;
}

export interface PublishResult {
  id: string;
  queue: string;
  cursor: string;
  /** True when this id was published within the dedup window, so nothing new was stored. */
  duplicate: boolean;
  partition: number;
  offset: number;
}

export interface Delivery {
  receipt: string;
  /** 1 on the first delivery, then 1 more for each redelivery. */
  attempt: number;
  group: string;
  visibleUntil: string;
  message: Message;
}

export interface AckResult {
  receipt: string;
  acked: boolean;
  code: string | null;
  error: string | null;
}

/** Every field of Message. MessageVerifier needs key, headers and deliverAt, because evq's signature covers them. */
const messageFields = 'id queue key data headers publishedAt deliverAt producer partition offset cursor signature { keyId timestamp nonce value proof }';
const publishResultFields = 'id queue cursor duplicate partition offset';

function document<Result, Variables>(source: string): TypedDocumentNode<Result, Variables> {
  return parse(source) as TypedDocumentNode<Result, Variables>;
}

export const publishDocument = document<{ publish: PublishResult }, { queue: string; message: PublishInput }>(
  `mutation EvqClientPublish($queue: String!, $message: PublishInput!) { publish(queue: $queue, message: $message) { ${publishResultFields} } }`,
);

export const publishBatchDocument = document<{ publishBatch: PublishResult[] }, { queue: string; messages: PublishInput[] }>(
  `mutation EvqClientPublishBatch($queue: String!, $messages: [PublishInput!]!) { publishBatch(queue: $queue, messages: $messages) { ${publishResultFields} } }`,
);

export const queueSettingsDocument = document<
  { queue: { visibilityTimeoutSeconds: number; maxAttempts: number } | null },
  { name: string }
>('query EvqClientQueueSettings($name: String!) { queue(name: $name) { visibilityTimeoutSeconds maxAttempts } }');

export const receiveDocument = document<
  { receive: Delivery[] },
  { queue: string; group: string; limit: number; waitSeconds: number; visibilitySeconds: number }
>(
  `mutation EvqClientReceive($queue: String!, $group: String!, $limit: Int!, $waitSeconds: Int!, $visibilitySeconds: Int) {
    receive(queue: $queue, group: $group, limit: $limit, waitSeconds: $waitSeconds, visibilitySeconds: $visibilitySeconds) {
      receipt attempt group visibleUntil message { ${messageFields} }
    }
  }`,
);

export const ackDocument = document<{ ack: AckResult[] }, { queue: string; receipts: string[] }>(
  'mutation EvqClientAck($queue: String!, $receipts: [String!]!) { ack(queue: $queue, receipts: $receipts) { receipt acked code error } }',
);

export const nackDocument = document<{ nack: boolean }, { queue: string; receipt: string; delaySeconds: number; error: string | null }>(
  `mutation EvqClientNack($queue: String!, $receipt: String!, $delaySeconds: Int!, $error: String) {
    nack(queue: $queue, receipt: $receipt, delaySeconds: $delaySeconds, error: $error)
  }`,
);

export const extendVisibilityDocument = document<{ extendVisibility: string }, { queue: string; receipt: string; seconds: number }>(
  `mutation EvqClientExtendVisibility($queue: String!, $receipt: String!, $seconds: Int!) {
    extendVisibility(queue: $queue, receipt: $receipt, seconds: $seconds)
  }`,
);

/** The `messages` subscription. evq ignores `from` when `after` is set. */
export const messagesSource = `subscription EvqClientMessages($queue: String!, $after: Cursor, $from: StreamStart, $key: String) {
  messages(queue: $queue, after: $after, from: $from, key: $key) { ${messageFields} }
}`;
