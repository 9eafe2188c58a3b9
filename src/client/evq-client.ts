import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Client as WsClient, createClient } from 'graphql-ws';
import { EvqClientError, EvqConnectionError, isRetryableStatus } from './errors.ts';
import { type Message, type PublishInput, type PublishResult, publishBatchDocument, publishDocument } from './operations.ts';
import { type SigningKey, signMessage } from './signing.ts';
import { createResumableSocket } from './socket.ts';
import { type SubscribeMessagesOptions, subscribeMessages } from './subscriber.ts';
import { type GraphQLTransport, type MessageHandler, type WorkOptions, type WorkStats, Worker } from './worker.ts';

export interface EvqClientOptions {
  /** Base URL of the evq server, such as http://127.0.0.1:8080. */
  url: string;
  /** Bearer token sent with every request and as graphql-ws `connectionParams.authorization`. */
  token: string;
  /** WebSocket constructor; the global one by default (browsers, Node.js 22 and later). */
  webSocketImpl?: unknown;
  /** fetch implementation, the global one by default. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Time limit of the request in ms, none by default. A request that times out fails with a retryable EvqConnectionError. */
  timeoutMs?: number;
}

export interface PublishOptions {
  /** Signs the message with this key (`v1` with a queue key secret, `v1a` with an Ed25519 private key). */
  sign?: SigningKey;
  signal?: AbortSignal;
}

interface GraphQLErrorShape {
  message: string;
  extensions?: Record<string, unknown>;
}

export class EvqClient implements GraphQLTransport {
  readonly #options: EvqClientOptions;
  readonly #fetch: typeof fetch;
  #ws: WsClient | null = null;
  #resumableWs: WsClient | null = null;

  constructor(options: EvqClientOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /**
   * Runs a query or mutation. Throws EvqClientError with the first error's code, and
   * EvqConnectionError when no GraphQL response came back.
   */
  async request<Result, Variables extends Record<string, unknown>>(
    document: TypedDocumentNode<Result, Variables>,
    variables: Variables,
    options?: AbortSignal | RequestOptions,
  ): Promise<Result> {
    const { signal, timeoutMs } = options instanceof AbortSignal ? { signal: options, timeoutMs: undefined } : (options ?? {});
    const timeout = timeoutMs === undefined ? null : AbortSignal.timeout(timeoutMs);
    const signals = [signal, timeout].filter((item): item is AbortSignal => item != null);
    const url = `${this.#options.url}/graphql`;
    let response: Response;
    let body: { data?: Result; errors?: GraphQLErrorShape[] };
    try {
      response = await this.#fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#options.token}` },
        body: JSON.stringify({ query: print(document), variables }),
        ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
      });
    } catch (error) {
      throw requestFailure(error, url, signal, timeoutMs);
    }
    try {
      body = (await response.json()) as typeof body;
    } catch (error) {
      if (signal?.aborted || timeout?.aborted) throw requestFailure(error, url, signal, timeoutMs);
      throw new EvqConnectionError(`evq at ${url} returned HTTP ${response.status} without a GraphQL response: ${(error as Error).message}.`, {
        status: response.status,
        retryable: isRetryableStatus(response.status) || response.ok,
      }, { cause: error });
    }
    const [error] = body.errors ?? [];
    if (error) throw new EvqClientError(error.message, error.extensions ?? {});
    return body.data as Result;
  }

  /**
   * Publishes a message. It sets `id` to a random UUID when the message has none, so sending the
   * same message again after a failure is a duplicate that evq does not store twice. With `sign`,
   * it signs the message and replaces any `signature` it had.
   */
  async publish(queue: string, message: PublishInput, options: PublishOptions = {}): Promise<PublishResult> {
    const input = await this.#prepare(queue, message, options.sign);
    return (await this.request(publishDocument, { queue, message: input }, options.signal)).publish;
  }

  /** Publishes messages in order, each prepared as `publish` prepares it. If any message is invalid, evq stores none. */
  async publishBatch(queue: string, messages: PublishInput[], options: PublishOptions = {}): Promise<PublishResult[]> {
    const inputs = await Promise.all(messages.map((message) => this.#prepare(queue, message, options.sign)));
    return (await this.request(publishBatchDocument, { queue, messages: inputs }, options.signal)).publishBatch;
  }

  /** Yields each event of a subscription until the caller stops iterating or the server ends it. */
  async *subscribe<Result, Variables extends Record<string, unknown>>(
    document: TypedDocumentNode<Result, Variables>,
    variables: Variables,
  ): AsyncGenerator<Result> {
    this.#ws ??= createClient({
      url: this.#socketUrl(),
      connectionParams: { authorization: `Bearer ${this.#options.token}` },
      ...(this.#options.webSocketImpl ? { webSocketImpl: this.#options.webSocketImpl } : {}),
    });
    for await (const result of this.#ws.iterate<Result>({ query: print(document), variables })) {
      const [error] = (result.errors ?? []) as GraphQLErrorShape[];
      if (error) throw new EvqClientError(error.message, error.extensions ?? {});
      yield result.data as Result;
    }
  }

  /**
   * Yields the messages of a queue's stream in order, each id once, verified when `verify` is set.
   * When the socket drops, it resumes after the last message it yielded. The docs of
   * subscribeMessages in subscriber.ts list the errors that end it.
   */
  subscribeMessages(queue: string, options: SubscribeMessagesOptions = {}): AsyncGenerator<Message> {
    this.#resumableWs ??= createResumableSocket({
      url: this.#socketUrl(),
      token: this.#options.token,
      ...(this.#options.webSocketImpl ? { webSocketImpl: this.#options.webSocketImpl } : {}),
    });
    return subscribeMessages(this.#resumableWs, queue, options);
  }

  /**
   * Receives messages of a queue and calls `handler` for each, acking those it returns for and
   * nacking those it throws for, until `options.signal` aborts. Resolves with counts once the
   * running handlers have returned and their acks are sent. Rejects with an error that a retry
   * cannot fix, such as UNAUTHENTICATED or QUEUE_NOT_FOUND. See Worker for the delivery guarantees.
   */
  async work(queue: string, handler: MessageHandler, options: WorkOptions = {}): Promise<WorkStats> {
    return new Worker(this, queue, handler, options).run();
  }

  /** Closes the WebSockets, if any were opened. */
  async close(): Promise<void> {
    await Promise.all([this.#ws?.dispose(), this.#resumableWs?.dispose()]);
    this.#ws = null;
    this.#resumableWs = null;
  }

  #socketUrl(): string {
    return `${this.#options.url.replace(/^http/, 'ws')}/graphql`;
  }

  async #prepare(queue: string, message: PublishInput, key: SigningKey | undefined): Promise<PublishInput> {
    const id = message.id ?? globalThis.crypto.randomUUID();
    if (key === undefined) return { ...message, id };
    const signature = await signMessage({ ...key, queue, id, data: message.data });
    return { ...message, id, signature };
  }
}

/** Returns the error for a fetch that failed: the abort reason when the caller aborted, otherwise a retryable EvqConnectionError. */
function requestFailure(error: unknown, url: string, signal: AbortSignal | undefined, timeoutMs: number | undefined): unknown {
  if (signal?.aborted) return error;
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return new EvqConnectionError(`The request to ${url} timed out after ${timeoutMs} ms.`, { retryable: true }, { cause: error });
  }
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return new EvqConnectionError(`The request to ${url} failed: ${(error as Error).message}${cause}.`, { retryable: true }, { cause: error });
}
