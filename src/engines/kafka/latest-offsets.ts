import type { LogReader } from './log-reader.ts';

/**
 * Lists the latest offsets of a topic for the publishes that need them, with one ListOffsets
 * request per topic for all the callers of one turn of the event loop. A caller never joins a
 * request that was sent before it called, so the offsets it gets include every record that the
 * brokers had acknowledged by then.
 */
export class LatestOffsets {
  readonly #reader: LogReader;
  /** Per topic, the request that the current turn's callers share; it goes out at the next turn. */
  readonly #pending = new Map<string, Promise<number[]>>();

  constructor(reader: LogReader) {
    this.#reader = reader;
  }

  /** Returns the next offset to be written of every partition of `topic`, as of this call or later. */
  get(topic: string): Promise<number[]> {
    let request = this.#pending.get(topic);
    if (request === undefined) {
      request = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        // A later caller needs offsets listed after its call, so it starts a new request.
        this.#pending.delete(topic);
        return this.#reader.latestOffsets(topic);
      });
      this.#pending.set(topic, request);
    }
    return request;
  }
}
