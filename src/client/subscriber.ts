import type { Client as WsClient } from 'graphql-ws';
import { type BackoffOptions, backoffDelay, defaultBackoff, sleep } from './backoff.ts';
import { DedupCache } from './dedup-cache.ts';
import { EvqClientError, isRetryable } from './errors.ts';
import type { MessageVerifier } from './message-verifier.ts';
import { type Message, messagesSource } from './operations.ts';
import { socketError } from './socket.ts';

export interface SubscribeMessagesOptions {
  /** Start of the stream when `after` is not set: `EARLIEST`, or `LATEST` (evq's default). */
  from?: 'EARLIEST' | 'LATEST';
  /** Start right after this cursor, as a previous message's `cursor` returned it. */
  after?: string;
  /** Only messages with this key. */
  key?: string;
  /**
   * Verifies evq's signature on each message before it is yielded. A message that fails ends the
   * iteration with a MessageVerificationError, whose `messageId` names it, and nothing after it is
   * yielded. To go on past it, subscribe again with `after` set to the error's `cursor`.
   */
  verify?: MessageVerifier;
  /** Ids already yielded, whose messages are skipped. A new DedupCache of 10 000 ids by default. */
  dedup?: DedupCache;
  /** Called with each error that the subscriber recovers from by reconnecting, before it waits. */
  onError?: (error: Error, retryInMs: number) => void;
  /** Delays between reconnects, by default 250 ms doubling up to 10 s, with jitter. */
  backoff?: BackoffOptions;
  /** Ends the iteration, also while it waits for a message or a reconnect. */
  signal?: AbortSignal;
}

/**
 * Yields the messages of a queue's stream in order, each once. When the socket drops or evq
 * returns a retryable error, it reconnects after a backoff and subscribes again right after the
 * last message it yielded, so it skips and repeats nothing. Errors that a retry cannot fix
 * (authentication, an unknown queue, an expired cursor, a failed verification) end the iteration.
 */
export async function* subscribeMessages(socket: WsClient, queue: string, options: SubscribeMessagesOptions = {}): AsyncGenerator<Message> {
  const dedup = options.dedup ?? new DedupCache();
  const signal = options.signal;
  let after = options.after ?? null;
  let failures = 0;

  while (!signal?.aborted) {
    // NOTE: with `from: LATEST`, a reconnect before the first message subscribes from LATEST again,
    // so messages published while the socket was down are missed. evq has no query for the end cursor.
    const variables = after === null ? { queue, from: options.from ?? null, key: options.key ?? null } : { queue, after, key: options.key ?? null };
    const iterator = socket.iterate<{ messages: Message }>({ query: messagesSource, variables });
    const stop = () => void iterator.return?.();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const result of iterator) {
        const [error] = (result.errors ?? []) as Array<{ message: string; extensions?: Record<string, unknown> }>;
        if (error) throw new EvqClientError(error.message, error.extensions ?? {});
        const message = (result.data as { messages: Message }).messages;
        failures = 0;
        if (options.verify) await options.verify.verify(message);
        after = message.cursor;
        if (dedup.has(message.id)) continue;
        dedup.add(message.id);
        yield message;
      }
      if (signal?.aborted) return;
      // evq ends a stream with an error or a closed socket (1001 on shutdown), not with a
      // completion, so a completion is resumed like a dropped socket.
      throw socketError({ code: 1001, reason: 'evq completed the subscription' });
    } catch (failure) {
      const error = socketError(failure);
      if (signal?.aborted) return;
      if (!isRetryable(error)) throw error;
      const delay = backoffDelay(failures++, options.backoff ?? defaultBackoff);
      options.onError?.(error, delay);
      await sleep(delay, signal);
    } finally {
      signal?.removeEventListener('abort', stop);
      await iterator.return?.();
    }
  }
}
