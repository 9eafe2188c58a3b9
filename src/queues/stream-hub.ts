import type { Engine, Position, ReadEntry, ReadStart } from '../engines/engine.ts';
import { errors, isEvqError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { abortable } from './abortable.ts';

/** Returns the entries that may be delivered; the message-integrity check drops forged records. */
export type AdmitEntries = (entries: ReadEntry[]) => ReadEntry[];

/** A storage read after the integrity check: the admitted entries, how many were read, and where to go on. */
interface Page {
  entries: ReadEntry[];
  read: number;
  next: Position;
}

/** Event of a stream subscription: a message with its position, or the error that ends it. */
export type StreamEvent = { entry: ReadEntry; error?: undefined } | { entry?: undefined; error: Error };

/** Entries a subscriber may fall behind the live tail before it goes back to reading from storage. */
const maxBufferedEntries = 10_000;
/** Messages per storage read while a subscriber catches up. */
const catchUpPageSize = 500;

interface Listener {
  buffer: ReadEntry[];
  overflowed: boolean;
  failure: Error | null;
  /** True once the shared tail stopped; the subscriber then ends after its buffer. */
  ended: boolean;
  wake: () => void;
}

/**
 * One engine tail of a queue, shared by every local subscriber of that queue. Each subscriber
 * first reads from storage up to the live end, then takes entries from the shared tail. A
 * subscriber that falls too far behind drops its buffer and reads from storage again, so a slow
 * client cannot make the tail buffer without bound.
 */
class QueueTail {
  readonly listeners = new Set<Listener>();
  readonly ready: Promise<void>;
  readonly engine: Engine;
  readonly queue: string;
  readonly logger: Logger;
  readonly onEnd: () => void;
  readonly #admit: AdmitEntries;
  readonly #controller = new AbortController();

  constructor(engine: Engine, queue: string, logger: Logger, admit: AdmitEntries, onEnd: () => void) {
    this.engine = engine;
    this.queue = queue;
    this.logger = logger;
    this.#admit = admit;
    this.onEnd = onEnd;
    this.ready = this.#run();
    // The run promise settles when the tail ends; its errors reach the listeners, not the caller.
    this.ready.catch(() => {});
  }

  async #run(): Promise<void> {
    const start = await this.engine.resolve(this.queue, 'latest');
    void this.#follow(start);
  }

  async #follow(start: Position): Promise<void> {
    try {
      for await (const read of this.engine.tail(this.queue, start, this.#controller.signal)) {
        // Checked once here for every subscriber of the queue.
        const entries = this.#admit(read);
        if (entries.length === 0) continue;
        for (const listener of this.listeners) {
          if (listener.overflowed) continue;
          if (listener.buffer.length + entries.length > maxBufferedEntries) {
            listener.overflowed = true;
            listener.buffer = [];
          } else {
            listener.buffer.push(...entries);
          }
          listener.wake();
        }
      }
      if (!this.#controller.signal.aborted) {
        this.#end(errors.queueNotFound(this.queue));
      }
    } catch (error) {
      if (!this.#controller.signal.aborted) {
        if (!isEvqError(error)) this.logger.error({ err: error, queue: this.queue }, 'queue tail failed');
        this.#end(error as Error);
      }
    } finally {
      this.onEnd();
    }
  }

  #end(failure: Error | null): void {
    for (const listener of this.listeners) {
      listener.failure = failure;
      listener.ended = true;
      listener.wake();
    }
  }

  /** Stops the tail; with `endListeners` its subscribers complete instead of waiting for more. */
  close(endListeners = false): void {
    this.#controller.abort();
    if (endListeners) this.#end(null);
  }
}

/** Fans each queue's stream out to the subscribers of this evq instance. */
export class StreamHub {
  readonly #tails = new Map<string, QueueTail>();
  readonly #engine: Engine;
  readonly #logger: Logger;

  readonly #admit: AdmitEntries;

  /** `admit` filters every page and tail batch before subscribers see it. */
  constructor(engine: Engine, logger: Logger, admit: AdmitEntries) {
    this.#engine = engine;
    this.#logger = logger.child({ component: 'stream-hub' });
    this.#admit = admit;
  }

  /**
   * Starts a subscription. The first page is read before this resolves, so a bad or expired
   * start rejects here; later failures arrive as a final `error` event.
   */
  async subscribe(
    queue: string,
    start: ReadStart,
    options: { key: string | null; signal?: AbortSignal | undefined; onEnd?: () => void },
  ): Promise<AsyncGenerator<StreamEvent>> {
    const position = await this.#engine.resolve(queue, start);
    const first = await this.#read(queue, position);
    return abortable((aborted) => this.#stream(queue, position, first, options.key, aborted), options.signal, options.onEnd);
  }

  async *#stream(
    queue: string,
    start: Position,
    firstPage: Page,
    key: string | null,
    signal: AbortSignal,
  ): AsyncGenerator<StreamEvent> {
    const position = [...start];
    let wake: () => void = () => {};
    const listener: Listener = { buffer: [], overflowed: false, failure: null, ended: false, wake: () => wake() };
    const tail = this.#attach(queue, listener);
    signal.addEventListener('abort', () => wake(), { once: true });

    /** Keeps entries the subscriber has not seen yet and moves its position past them. */
    const accept = (entry: ReadEntry): ReadEntry | null => {
      const { partition, offset } = entry.message;
      if (offset < (position[partition] ?? 0)) return null;
      position[partition] = offset + 1;
      if (key !== null && entry.message.key !== key) return null;
      return { message: entry.message, after: [...position] };
    };

    try {
      await tail.ready;
      let page = firstPage;
      while (!signal.aborted) {
        // Catch up from storage until a read comes back empty. The shared tail started no later
        // than that point, so from then on its buffer contains everything that follows.
        while (page.read > 0 && !signal.aborted) {
          for (const entry of page.entries) {
            const accepted = accept(entry);
            if (accepted) yield { entry: accepted };
          }
          // Records that the integrity check dropped still move the position on.
          page.next.forEach((offset, partition) => {
            if (offset > (position[partition] ?? 0)) position[partition] = offset;
          });
          page = await this.#read(queue, position);
        }

        while (!signal.aborted && !listener.overflowed) {
          if (listener.buffer.length === 0 && listener.ended) {
            if (listener.failure) yield { error: listener.failure };
            return;
          }
          if (listener.buffer.length === 0) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = () => {};
            continue;
          }
          const entries = listener.buffer;
          listener.buffer = [];
          for (const entry of entries) {
            const accepted = accept(entry);
            if (accepted) yield { entry: accepted };
          }
        }
        if (listener.overflowed && !signal.aborted) {
          this.#logger.warn({ queue }, 'subscriber fell behind the live tail; reading from storage');
          listener.overflowed = false;
          page = await this.#read(queue, position);
        }
      }
    } catch (error) {
      if (!isEvqError(error)) this.#logger.error({ err: error, queue }, 'stream subscription failed');
      yield { error: error as Error };
    } finally {
      this.#detach(queue, tail, listener);
    }
  }

  async #read(queue: string, position: Position): Promise<Page> {
    const result = await this.#engine.read(queue, position, { limit: catchUpPageSize });
    return { entries: this.#admit(result.entries), read: result.entries.length, next: result.next };
  }

  #attach(queue: string, listener: Listener): QueueTail {
    let tail = this.#tails.get(queue);
    if (!tail) {
      const created: QueueTail = new QueueTail(this.#engine, queue, this.#logger, this.#admit, () => {
        if (this.#tails.get(queue) === created) this.#tails.delete(queue);
      });
      tail = created;
      this.#tails.set(queue, tail);
    }
    tail.listeners.add(listener);
    return tail;
  }

  #detach(queue: string, tail: QueueTail, listener: Listener): void {
    tail.listeners.delete(listener);
    if (tail.listeners.size === 0) {
      tail.close();
      if (this.#tails.get(queue) === tail) this.#tails.delete(queue);
    }
  }

  /** Ends every shared tail; their subscribers see the end of the stream. */
  close(): void {
    for (const tail of this.#tails.values()) tail.close(true);
    this.#tails.clear();
  }
}
