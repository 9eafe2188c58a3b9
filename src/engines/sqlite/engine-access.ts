import type { SqliteContext } from './context.ts';

/** The parts of the SQLite engine that its shared stores use: its open check, its reads and its group commit. */
export interface SqliteEngineAccess {
  /** Returns the open database, or throws ENGINE_UNAVAILABLE. */
  requireOpen(operation: string): SqliteContext;
  /** Runs `run` at once on the open database; errors other than EvqErrors become ENGINE_UNAVAILABLE. */
  read<T>(operation: string, run: (context: SqliteContext) => T): T;
  /** Runs `run` in the next group commit and resolves with its result after COMMIT. */
  write<T>(operation: string, run: (context: SqliteContext) => T): Promise<T>;
}
