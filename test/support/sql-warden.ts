/**
 * The setup the SQL end-to-end tests share: a warden.yaml with one PostgreSQL connection `db`
 * (TEST_DATABASE_URL, 3 s statement timeout), structured results and a stdio principal, and a
 * `warden serve` started on it with the given policy files; and the leak assertion they share.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from './pg-cluster.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from './warden-process.js';

/** warden.yaml for a stdio principal `subject` in `groups` and the connection `db` (its statement timeout `timeout`). */
export function sqlConfig(subject = 'agent', groups: string[] = ['analysts'], timeout = '3s'): string {
  return `
transcripts: { store: sqlite:warden.db }
responses: { structured_content: true }
identity: { stdio: { subject: ${subject}, groups: [${groups.join(', ')}] } }
connections:
  db: { type: postgres, url: env:TEST_DATABASE_URL, statement_timeout: ${timeout} }
policies: [policies/*.yaml]
`;
}

/** The rows of a result as the agent sees them (structured content). */
export function rowsOf(r: SqlResult): unknown[][] {
  return ((r.structured as { rows?: unknown[][] } | undefined)?.rows ?? []) as unknown[][];
}

/** A running Warden over `db` and what stops it (the session, then its folder). */
export interface SqlWarden {
  w: WardenSession;
  /** The config folder (dir.dbPath is the transcript file). */
  dir: WardenDir;
  query(sql: string): ReturnType<WardenSession['call']>;
  close(): Promise<void>;
}

/** Start `warden serve` with these policy files (name -> YAML) against the test database. */
export async function startSqlWarden(db: TestDatabase, policies: Record<string, string>, config = sqlConfig()): Promise<SqlWarden> {
  const dir = writeWardenDir(config, policies);
  let w: WardenSession;
  try {
    w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: db.url });
  } catch (e) {
    dir.cleanup();
    throw e;
  }
  return {
    w,
    dir,
    query: (sql) => w.call('query_database', { connection: 'db', sql }),
    async close() {
      await w.close();
      dir.cleanup();
    },
  };
}

/** How many rows `from` (a FROM clause: a table, with a WHERE if wanted) holds now, read as the admin. */
export async function countRows(db: TestDatabase, from: string): Promise<number> {
  const r = await db.query(`SELECT count(*)::int AS n FROM ${from}`);
  return (r.rows[0] as { n: number }).n;
}

/** Hand public tables to the test role, as an application's tables belong to its role. */
export async function ownTables(db: TestDatabase, tables: string[]): Promise<void> {
  for (const t of tables) await db.query(`ALTER TABLE public.${t} OWNER TO ${db.role}`);
}

/**
 * The assertion every SQL e2e test makes of a result: its text and structured content quote none
 * of `secrets` (`caseless`: compared in lower case, for values a query may re-case).
 */
export function noLeakOf(secrets: readonly string[], opts: { caseless?: boolean } = {}): (r: { text: string; structured?: unknown }, what: string) => void {
  const fold = (s: string): string => (opts.caseless ? s.toLowerCase() : s);
  return (r, what) => {
    const all = fold(`${r.text}\n${JSON.stringify(r.structured ?? {})}`);
    for (const secret of secrets) assert.ok(!all.includes(fold(secret)), `${what} leaks ${secret}: ${r.text.slice(0, 400)}`);
  };
}

/**
 * A check that a call was refused (WARDEN_DENIED) for the reason `guard` matches, with none of
 * `secrets` in its answer. Why shared: the value-quoting suites all assert refusals this way.
 */
export function refusalOf(secrets: readonly string[]): (r: { isError: boolean; text: string; structured?: unknown }, sql: string, guard: RegExp) => void {
  const noLeak = noLeakOf(secrets);
  return (r, sql, guard) => {
    assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 400)}`);
    assert.match(r.text, /^WARDEN_DENIED: /, sql);
    assert.match(r.text, guard, sql);
    noLeak(r, sql);
  };
}

/** One database seen three ways: every grant alone, under column masks, under a deny rule. */
export interface GuardedWardens {
  plain: SqlWarden;
  masked: SqlWarden;
  denied: SqlWarden;
}

/**
 * The shared part of the value-quoting suites (statistics, schema constants, catalog columns):
 * inside the caller's describe, start the three Wardens of GuardedWardens before its tests and
 * close them after, and test that each of `leaks` quotes its value without masks or denies (the
 * fixture shows the leak) and that every statement (`leaks` and `refused`) is refused under the
 * masks and under the deny rule (`denyReason`), leaking none of `secrets`. Returns the Wardens
 * (filled in by the before hook) for the suite's own tests.
 */
/** The grant the value-quoting suites share: every table, both SQL tools, for analysts. */
export const ANALYSTS_READ_ALL = `
rules:
  - id: agents
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
`;

/** The conditional deny the value-quoting suites share (a rule on public.keys). */
export const NO_KEYS_DENY = `
  - id: no-keys
    effect: deny
    tool: query_database
    sql: { read: [public.keys] }
`;

export function quotingSuite(o: {
  db: () => TestDatabase;
  /** Defaults: ANALYSTS_READ_ALL and NO_KEYS_DENY. */
  policies: { grants?: string; masks: string; deny?: string };
  leaks: readonly (readonly [string, string])[];
  refused: readonly string[];
  secrets: readonly string[];
  denyReason: RegExp;
  /** Statements that must still run under the masks and under the deny rule, leaking none of `secrets` (a test of that title). */
  stillRead?: { title: string; sql: readonly string[] };
}): GuardedWardens {
  const w = {} as GuardedWardens;
  const refused = refusalOf(o.secrets);
  const all = [...o.leaks.map(([s]) => s), ...o.refused];
  before(async () => {
    const p = { grants: ANALYSTS_READ_ALL, deny: NO_KEYS_DENY, ...o.policies };
    [w.plain, w.masked, w.denied] = await Promise.all([
      startSqlWarden(o.db(), { 'p.yaml': p.grants }),
      startSqlWarden(o.db(), { 'p.yaml': p.masks + p.grants }),
      startSqlWarden(o.db(), { 'p.yaml': p.grants + p.deny }),
    ]);
  });
  after(async () => {
    await Promise.all([w.plain, w.masked, w.denied].map((x) => x?.close()));
  });
  test('the fixture: without masks or deny rules each statement quotes its constant (the leak this rule closes)', async () => {
    for (const [sql, value] of o.leaks) {
      const r = await w.plain.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      assert.ok(`${r.text}${JSON.stringify(r.structured ?? {})}`.includes(value), `${sql} does not quote ${value}: ${r.text.slice(0, 300)}`);
    }
  });
  test('under masks every statement is refused, saying the masks are why', async () => {
    for (const sql of all) refused(await w.masked.query(sql), sql, /column masks apply/);
  });
  test('under a deny rule every statement is refused, saying the deny rules are why', async () => {
    for (const sql of all) refused(await w.denied.query(sql), sql, o.denyReason);
  });
  const still = o.stillRead;
  if (still) {
    const noLeak = noLeakOf(o.secrets);
    test(still.title, async () => {
      for (const x of [w.masked, w.denied]) {
        for (const sql of still.sql) {
          const r = await x.query(sql);
          assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
          noLeak(r, sql);
        }
      }
    });
  }
  return w;
}

/** What notesFixture fills in before the suite's tests. */
export interface NotesFixture {
  db: TestDatabase;
  dir: WardenDir;
}

/**
 * A database with a `notes (id serial, body text)` table the test role owns, and a Warden config
 * folder with `config` and one policy file, made before the calling suite's tests (`seed` adds
 * what else the suite needs) and removed after. Why shared: the end-to-end suites of calls on notes
 * (agent input, fail-closed, cancellation) each set this up alike.
 */
export function notesFixture(prefix: string, config: string, policy: string, seed?: (db: TestDatabase) => Promise<unknown>): NotesFixture {
  const fx = {} as NotesFixture;
  before(async () => {
    fx.db = await createTestDatabase({ prefix });
    await fx.db.query('CREATE TABLE notes (id serial PRIMARY KEY, body text)');
    await fx.db.query(`ALTER TABLE notes OWNER TO ${fx.db.role}`);
    await seed?.(fx.db);
    fx.dir = writeWardenDir(config, { 'p.yaml': policy });
  });
  after(async () => {
    await fx.db?.drop();
    fx.dir?.cleanup();
  });
  return fx;
}

/** A partial mask on public.users.email; and the same with `on_derived: mask` (values computed from it run, masked). */
export const EMAIL_MASK = 'masking:\n  columns: [{ column: public.users.email, with: partial }]\n';
export const EMAIL_MASK_ON_DERIVED = 'masking:\n  on_derived: mask\n  columns: [{ column: public.users.email, with: partial }]\n';

/** Three Wardens on `db` granting analysts every read: no masks (the leak), EMAIL_MASK, EMAIL_MASK_ON_DERIVED. */
export async function emailMaskTrio(db: TestDatabase): Promise<{ plain: SqlWarden; masked: SqlWarden; derived: SqlWarden }> {
  const [plain, masked, derived] = await Promise.all([
    startSqlWarden(db, { 'p.yaml': ANALYSTS_READ_ALL }),
    startSqlWarden(db, { 'p.yaml': EMAIL_MASK + ANALYSTS_READ_ALL }),
    startSqlWarden(db, { 'p.yaml': EMAIL_MASK_ON_DERIVED + ANALYSTS_READ_ALL }),
  ]);
  return { plain, masked, derived };
}

/** What a statement answered, as the SQL e2e tests read it. */
export type SqlResult = Awaited<ReturnType<SqlWarden['query']>>;

/** Assert that a statement ran, showing the head of its answer when it did not. */
export const ranOk = (r: SqlResult, what: string): void => assert.equal(r.isError, false, `${what}: ${r.text.slice(0, 300)}`);

/**
 * The two Wardens the write-oracle tests compare on one database: `masked` under `mask` and
 * `grant`, `open` under `grant` alone (where each probe's channel is shown to be real). Started side
 * by side; when one fails the other is closed. Why shared: the oracle test files set it up alike.
 */
export async function startMaskedPair(db: TestDatabase, mask: string, grant: string): Promise<{ masked: SqlWarden; open: SqlWarden }> {
  const [masked, open] = await Promise.allSettled([startSqlWarden(db, { 'p.yaml': mask + grant }, sqlConfig()), startSqlWarden(db, { 'p.yaml': grant }, sqlConfig())]);
  if (masked.status === 'fulfilled' && open.status === 'fulfilled') return { masked: masked.value, open: open.value };
  for (const w of [masked, open]) if (w.status === 'fulfilled') await w.value.close();
  throw (masked.status === 'rejected' ? masked.reason : (open as PromiseRejectedResult).reason) as Error;
}

/** Close a file's Wardens and drop its database; each may be unset when its `before` failed. */
export async function stopAll(db: TestDatabase | undefined, ...wardens: (SqlWarden | undefined)[]): Promise<void> {
  for (const w of wardens) await w?.close();
  await db?.drop();
}

/** The rows of a structured result, each cell as text. */
export const structuredRows = (r: { structured?: unknown }): string[][] => (r.structured as { rows: unknown[][] }).rows.map((row) => row.map(String));

/**
 * The write-reach tests' policy: group analysts reads and writes `tables` with `statements`
 * (select, insert, update, delete by default), and a deny rule on writing public.vault, the
 * table the tests' functions write behind the statement's back.
 */
export function vaultDenyPolicy(tables: readonly string[], statements: readonly string[] = ['select', 'insert', 'update', 'delete']): string {
  return `
rules:
  - id: writer
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [${statements.join(', ')}], read: [${tables.join(', ')}], write: [${tables.join(', ')}] }
  - id: no-vault
    effect: deny
    tool: query_database
    sql: { write: [public.vault] }
`;
}

/**
 * A policy letting group analysts select, insert, update and delete `tables` (public.NAME) on
 * db. Why: the write-side oracle tests (sql-computed-oracles, sql-delete-oracles) run their
 * statements under it, with and without emailRedactions, and each wrote it out.
 */
export function writersPolicy(tables: readonly string[]): string {
  const names = tables.map((t) => `public.${t}`).join(', ');
  return `
rules:
  - id: writers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, insert, update, delete]
      read: [${names}]
      write: [${names}]
`;
}

/** Masks redacting the `email` column of each of `tables` (public.NAME). */
export function emailRedactions(tables: readonly string[]): string {
  return `
masking:
  columns:
${tables.map((t) => `    - { column: public.${t}.email, with: redact }`).join('\n')}
`;
}
