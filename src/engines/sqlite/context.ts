import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';

/**
 * The open database with its prepared statements and clock, passed to every module of the engine.
 * Statements are prepared on first use and kept, so hot paths never parse SQL twice.
 */
export class SqliteContext {
  readonly db: DatabaseSync;
  readonly now: () => number;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync, now: () => number) {
    this.db = db;
    this.now = now;
  }

  /** Returns the prepared statement for `sql`, preparing it on first use. */
  statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs a cached statement and returns its first row, typed by the caller. */
  get<Row>(sql: string, ...parameters: SQLInputValue[]): Row | undefined {
    return this.statement(sql).get(...parameters) as Row | undefined;
  }

  /** Runs a cached statement and returns all rows, typed by the caller. */
  all<Row>(sql: string, ...parameters: SQLInputValue[]): Row[] {
    return this.statement(sql).all(...parameters) as Row[];
  }

  /** Runs a cached statement that writes and returns the number of changed rows. */
  run(sql: string, ...parameters: SQLInputValue[]): number {
    return Number(this.statement(sql).run(...parameters).changes);
  }

  /** Runs a cached INSERT and returns the rowid of the new row. */
  insert(sql: string, ...parameters: SQLInputValue[]): number {
    return Number(this.statement(sql).run(...parameters).lastInsertRowid);
  }
}
