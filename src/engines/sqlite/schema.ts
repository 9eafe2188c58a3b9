import type { DatabaseSync } from 'node:sqlite';

/**
 * The schema as a list of migrations; `PRAGMA user_version` stores how many have run. Append new
 * migrations at the end and never edit one that has shipped.
 *
 * Times are Unix milliseconds. Queue and group ids come from AUTOINCREMENT, so a queue deleted and
 * created again under the same name never matches a receipt of the old one.
 */
const migrations: readonly string[] = [
  `
  CREATE TABLE queues (
    queue_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    partitions INTEGER NOT NULL,
    retention_seconds INTEGER NOT NULL,
    visibility_timeout_seconds INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    require_signature INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );

  -- Offsets in [earliest_offset, next_offset) are stored without gaps: retention and purge delete
  -- from the low end only.
  CREATE TABLE partitions (
    queue_id INTEGER NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    earliest_offset INTEGER NOT NULL,
    PRIMARY KEY (queue_id, partition)
  ) WITHOUT ROWID;

  -- seq is the rowid, so it grows in publish order across the partitions of a queue.
  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    queue_id INTEGER NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    key TEXT,
    headers TEXT,
    data TEXT NOT NULL,
    producer TEXT,
    published_at INTEGER NOT NULL,
    deliver_at INTEGER
  );
  CREATE UNIQUE INDEX messages_by_offset ON messages (queue_id, partition, offset);
  CREATE INDEX messages_delayed ON messages (queue_id, partition, offset, deliver_at)
    WHERE deliver_at IS NOT NULL;

  -- Rows are appended in time order and looked up through an in-memory index by message id,
  -- because a B-tree keyed by random ids costs a page write per message.
  CREATE TABLE dedup (
    dedup_id INTEGER PRIMARY KEY,
    queue_id INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    appended_at INTEGER NOT NULL
  );

  CREATE TABLE groups (
    group_id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (queue_id, name)
  );

  -- The group has taken every message below next_offset into its deliveries (or acked it).
  CREATE TABLE group_partitions (
    group_id INTEGER NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (group_id, partition)
  ) WITHOUT ROWID;

  -- One row per message a group has taken and not yet acked or dead-lettered. A leased row is
  -- hidden until available_at; an unleased row is ready from available_at on. message holds a
  -- JSON copy for redriven rows, so retention cannot remove them.
  CREATE TABLE deliveries (
    group_id INTEGER NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    leased INTEGER NOT NULL,
    lease_token INTEGER,
    available_at INTEGER NOT NULL,
    last_error TEXT,
    message TEXT,
    PRIMARY KEY (group_id, partition, offset)
  ) WITHOUT ROWID;
  CREATE INDEX deliveries_due ON deliveries (group_id, leased, available_at);

  CREATE TABLE dead_letters (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    key TEXT,
    headers TEXT,
    data TEXT NOT NULL,
    producer TEXT,
    published_at INTEGER NOT NULL,
    deliver_at INTEGER,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    dead_lettered_at INTEGER NOT NULL
  );
  CREATE INDEX dead_letters_by_queue ON dead_letters (queue_id, sequence);
  `,
  `
  -- The engine's shared records, loaded into memory at start.
  CREATE TABLE shared_records (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  -- The replay cache of signed messages: the owner that holds each claimed key since claimed_at.
  CREATE TABLE nonce_claims (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    claimed_at INTEGER NOT NULL
  );
  CREATE INDEX nonce_claims_by_time ON nonce_claims (claimed_at);
  `,
  `
  -- Records whose integrity check failed; message is the stored message as JSON.
  CREATE TABLE quarantine (
    quarantine_id INTEGER PRIMARY KEY,
    queue_id INTEGER NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    message TEXT NOT NULL,
    reason TEXT NOT NULL,
    quarantined_at INTEGER NOT NULL,
    UNIQUE (queue_id, partition, offset)
  );
  `,
];

/** Runs the migrations that the database has not run yet, each in its own transaction. */
export function migrate(db: DatabaseSync): void {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
  if (row.user_version > migrations.length) {
    throw new Error(
      `The database has schema version ${row.user_version}, newer than version ${migrations.length} ` +
        'that this evq knows; upgrade evq or open another database.',
    );
  }
  for (let version = row.user_version; version < migrations.length; version++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(migrations[version]!);
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}

/** Sets the connection pragmas: WAL, the synchronous level, and a busy timeout for other processes. */
export function configureConnection(db: DatabaseSync, sync: 'normal' | 'full'): void {
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.exec('PRAGMA busy_timeout = 5000');
  // 64 MiB of page cache (the default is 2 MiB) keeps the indexes of busy queues in memory.
  db.exec('PRAGMA cache_size = -65536');
}
