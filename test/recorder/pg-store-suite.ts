/**
 * The PostgreSQL transcript store suites' setup: a test database whose role may create the
 * store's tables, `open()` for as many stores (replicas) on it as a test wants, each closed, then
 * the database dropped, after the suite. Why: the store, rate-limit and approval suites set it up alike.
 */
import { after, before } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, type PgStoreOptions, type PgTranscriptStore } from '../../src/recorder/index.js';

export interface PgStoreSuite {
  /** The database, once the suite's before hook ran. */
  readonly db: TestDatabase;
  open(opts?: PgStoreOptions): Promise<PgTranscriptStore>;
}

/** Register before/after hooks for a suite of PostgreSQL stores on one test database named `prefix`. */
export function pgStoreSuite(prefix: string): PgStoreSuite {
  let db: TestDatabase | undefined;
  const opened: PgTranscriptStore[] = [];
  before(async () => {
    db = await createTestDatabase({ prefix });
    await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  });
  after(async () => {
    for (const s of opened) await s.close().catch(() => undefined);
    await db?.drop();
  });
  return {
    get db() {
      if (!db) throw new Error('pgStoreSuite: the database is created in the before hook');
      return db;
    },
    async open(opts = {}) {
      const s = await openPgStore(this.db.url, { recoverEveryMs: 60_000, ...opts });
      opened.push(s);
      return s;
    },
  };
}
