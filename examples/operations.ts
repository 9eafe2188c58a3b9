// Typed GraphQL operations shared by the examples and tests; `npm run codegen` types them.
import { graphql } from '../src/client/gql/index.ts';

export const CreateQueue = graphql(`
  mutation CreateQueue($input: CreateQueueInput!) {
    createQueue(input: $input) {
      name
      partitions
      visibilityTimeoutSeconds
      maxAttempts
    }
  }
`);

export const Publish = graphql(`
  mutation Publish($queue: String!, $message: PublishInput!) {
    publish(queue: $queue, message: $message) {
      id
      queue
      cursor
      duplicate
    }
  }
`);

export const Receive = graphql(`
  mutation Receive($queue: String!, $group: String! = "default", $limit: Int! = 10, $waitSeconds: Int! = 20) {
    receive(queue: $queue, group: $group, limit: $limit, waitSeconds: $waitSeconds) {
      receipt
      attempt
      visibleUntil
      message {
        id
        key
        data
        publishedAt
      }
    }
  }
`);

export const Ack = graphql(`
  mutation Ack($queue: String!, $receipts: [String!]!) {
    ack(queue: $queue, receipts: $receipts) {
      receipt
      acked
      code
    }
  }
`);

export const Nack = graphql(`
  mutation Nack($queue: String!, $receipt: String!, $delaySeconds: Int! = 0, $error: String) {
    nack(queue: $queue, receipt: $receipt, delaySeconds: $delaySeconds, error: $error)
  }
`);

export const Messages = graphql(`
  subscription Messages($queue: String!, $after: Cursor, $from: StreamStart) {
    messages(queue: $queue, after: $after, from: $from) {
      id
      key
      data
      publishedAt
      cursor
    }
  }
`);
