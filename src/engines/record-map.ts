import type { Logger } from '../observability/logger.ts';

/** Called after a key changed; `value` is null when the key was removed. */
export type ChangeListener<T> = (key: string, value: T | null) => void;

/**
 * Values by key, held in memory, with listeners that run after each change. The engines fill it
 * from storage and apply each write after it is durable.
 */
export class RecordMap<T> {
  readonly #values = new Map<string, T>();
  readonly #listeners = new Set<ChangeListener<T>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get(key: string): T | null {
    return this.#values.get(key) ?? null;
  }

  /** Returns the entries whose keys start with `prefix`, sorted by key in UTF-16 code unit order. */
  entries(prefix: string): [string, T][] {
    return [...this.#values].filter(([key]) => key.startsWith(prefix)).sort(compareKeys);
  }

  /**
   * Stores `value` under `key`, or removes `key` when `value` is null, then runs the listeners.
   * Removing a missing key changes nothing, so no listener runs.
   */
  apply(key: string, value: T | null): void {
    if (value === null) {
      if (!this.#values.delete(key)) {
        return;
      }
    } else {
      this.#values.set(key, value);
    }
    for (const listener of this.#listeners) {
      try {
        listener(key, value);
      } catch (error) {
        // The key is left out of the log because callers may use secrets or their hashes as keys.
        this.#logger.error({ err: error }, 'a change listener failed');
      }
    }
  }

  /** Adds a listener and returns a function that removes it. */
  onChange(listener: ChangeListener<T>): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}

function compareKeys([a]: [string, unknown], [b]: [string, unknown]): number {
  if (a === b) {
    return 0;
  }
  return a < b ? -1 : 1;
}
