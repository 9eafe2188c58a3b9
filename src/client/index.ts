/**
 * A small, browser-safe evq client: typed GraphQL requests over fetch and subscriptions over
 * graphql-ws with the platform's WebSocket. Operations come typed from `npm run codegen`.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Client as WsClient, createClient } from 'graphql-ws';
import { EvqClientError } from './errors.ts';

export { canonicalJson, canonicalString, dataDigest, type SignedFields, storageCanonicalString } from './canonical.ts';
export { DedupCache } from './dedup-cache.ts';
export { EvqClientError, EvqConnectionError, isRetryable, MessageVerificationError, type VerificationFailure } from './errors.ts';
export { MessageVerifier, type MessageVerifierOptions, type VerifiableMessage } from './message-verifier.ts';
export type { AckResult, Delivery, Message, PublishInput, PublishResult } from './operations.ts';
export {
  exportEd25519PublicKey,
  importEd25519PrivateKey,
  importEd25519PublicKey,
  type MessageSignature,
  type SigningKey,
  type SignMessageOptions,
  signMessage,
  signV1,
  signV1a,
  verifyV1a,
} from './signing.ts';

export interface EvqClientOptions {
  /** Base URL of the evq server, such as http://127.0.0.1:8080. */
  url: string;
  /** Bearer token sent with every request and as graphql-ws `connectionParams.authorization`. */
  token: string;
  /** WebSocket constructor; the global one by default (browsers, Node.js 22 and later). */
  webSocketImpl?: unknown;
}

interface GraphQLErrorShape {
  message: string;
  extensions?: Record<string, unknown>;
}

export class EvqClient {
  readonly #options: EvqClientOptions;
  #ws: WsClient | null = null;

  constructor(options: EvqClientOptions) {
    this.#options = options;
  }

  /** Runs a query or mutation. Throws EvqClientError with the first error's code. */
  async request<Result, Variables extends Record<string, unknown>>(
    document: TypedDocumentNode<Result, Variables>,
    variables: Variables,
    signal?: AbortSignal,
  ): Promise<Result> {
    const response = await fetch(`${this.#options.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#options.token}` },
      body: JSON.stringify({ query: print(document), variables }),
      ...(signal ? { signal } : {}),
    });
    const body = (await response.json()) as { data?: Result; errors?: GraphQLErrorShape[] };
    const [error] = body.errors ?? [];
    if (error) throw new EvqClientError(error.message, error.extensions ?? {});
    return body.data as Result;
  }

  /** Yields each event of a subscription until the caller stops iterating or the server ends it. */
  async *subscribe<Result, Variables extends Record<string, unknown>>(
    document: TypedDocumentNode<Result, Variables>,
    variables: Variables,
  ): AsyncGenerator<Result> {
    this.#ws ??= createClient({
      url: `${this.#options.url.replace(/^http/, 'ws')}/graphql`,
      connectionParams: { authorization: `Bearer ${this.#options.token}` },
      ...(this.#options.webSocketImpl ? { webSocketImpl: this.#options.webSocketImpl } : {}),
    });
    for await (const result of this.#ws.iterate<Result>({ query: print(document), variables })) {
      const [error] = (result.errors ?? []) as GraphQLErrorShape[];
      if (error) throw new EvqClientError(error.message, error.extensions ?? {});
      yield result.data as Result;
    }
  }

  /** Closes the WebSocket, if one was opened. */
  async close(): Promise<void> {
    await this.#ws?.dispose();
    this.#ws = null;
  }
}
