/**
 * Every case of ../shared/corpus/sql.yaml through `warden serve` (real MCP client over stdio)
 * against a real PostgreSQL, under the corpus's baseline policy. Afterwards the tables hold
 * exactly what they held before and no server-side file or large object exists.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';
import { sqlConfig } from '../support/sql-warden.js';
import { corpusDir } from '../support/repo.js';

interface Case {
  id: string;
  sql?: string;
  build?: string;
  expect: 'allow' | 'deny' | 'no-leak';
}

const CONFIG = sqlConfig('corpus-agent', ['analysts']);

// The corpus's baseline policy, in Warden's language.
const POLICY = `
masking:
  columns:
    - { column: public.users.email, with: partial }
    - { column: public.users.ssn, with: redact }
  detectors: [email, us_ssn, credit_card, jwt, aws_access_key, private_key, password_in_url, bearer_token]
rules:
  - id: baseline-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select]
      read: [public.users, public.orders]
      functions: [count, sum, avg, min, max, lower, upper, length, coalesce, now, date_trunc, round, abs]
`;

const EMAILS = ['alice@example.com', 'bob@example.com', 'carol@example.org'];
const SSNS = ['123-45-6789', '234-56-7890', '345-67-8901'];
const SECRET = 'top-secret-launch-code';

/** No seeded value in any spelling a query can give it: any case, SSN digits without dashes. */
function assertNoLeak(id: string, text: string, structured: string): void {
  const hay = `${text}\n${structured}`.toLowerCase();
  for (const secret of [...EMAILS, ...SSNS, SECRET]) assert.ok(!hay.includes(secret.toLowerCase()), `${id}: leaks ${secret}`);
  for (const ssn of SSNS) assert.ok(!hay.includes(ssn.replace(/-/g, '')), `${id}: leaks the digits of ${ssn}`);
}

function loadCases(): Case[] {
  const doc = parse(readFileSync(join(corpusDir(), 'sql.yaml'), 'utf8')) as { cases: Case[]; generated?: Case[] };
  const generated = (doc.generated ?? []).map((g) => ({ ...g, sql: new Function(`return ${g.build}`)() as string }));
  return [...doc.cases, ...generated];
}

let db: TestDatabase;
let dir: WardenDir;
let w: WardenSession;
// The same policy without content detectors: column masking by lineage must hold on its own
// (a detector can miss a value that a query reshapes: upper-cased, doubled, aggregated).
let lineageDir: WardenDir;
let lineageOnly: WardenSession;
let snapshot: string;

async function tablesSnapshot(): Promise<string> {
  const parts: string[] = [];
  for (const t of ['users', 'orders', 'secrets']) {
    const r = await db.query(`SELECT coalesce(string_agg(x::text, '|' ORDER BY x::text), '') AS s FROM ${t} x`);
    parts.push(`${t}:${(r.rows[0] as { s: string }).s}`);
  }
  const tables = await db.query(`SELECT string_agg(tablename, ',' ORDER BY tablename) AS s FROM pg_tables WHERE schemaname NOT IN ('pg_catalog','information_schema')`);
  parts.push(`tables:${(tables.rows[0] as { s: string }).s}`);
  return parts.join('\n');
}

before(async () => {
  db = await createTestDatabase({ prefix: 'corpus' });
  await db.query(`
    CREATE TABLE users (id serial PRIMARY KEY, name text, email text, ssn text);
    CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total numeric, created timestamptz DEFAULT '2026-01-01');
    CREATE TABLE secrets (id serial PRIMARY KEY, user_id int, value text);
    INSERT INTO users (name, email, ssn) VALUES ('Alice', '${EMAILS[0]}', '${SSNS[0]}'), ('Bob', '${EMAILS[1]}', '${SSNS[1]}'), ('Carol', '${EMAILS[2]}', '${SSNS[2]}');
    INSERT INTO orders (user_id, total) VALUES (1, 10), (2, 20), (3, 30);
    INSERT INTO secrets (user_id, value) VALUES (1, '${SECRET}');
  `);
  // The login role owns everything: only Warden stands between the agent and a write.
  for (const t of ['users', 'orders', 'secrets']) await db.query(`ALTER TABLE ${t} OWNER TO ${db.role}`);
  await db.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${db.role}`);
  snapshot = await tablesSnapshot();
  dir = writeWardenDir(CONFIG, { 'baseline.yaml': POLICY });
  w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: db.url });
  lineageDir = writeWardenDir(CONFIG, { 'baseline.yaml': POLICY.replace(/  detectors: \[.*\]\n/, '  detectors: []\n') });
  lineageOnly = await connectWarden(lineageDir.configPath, { TEST_DATABASE_URL: db.url });
});

after(async () => {
  await w?.close();
  await lineageOnly?.close();
  await db?.drop();
  dir?.cleanup();
  lineageDir?.cleanup();
});

describe('sql.yaml corpus through the whole pipeline', () => {
  const cases = loadCases();
  test('the corpus is loaded', () => assert.ok(cases.length >= 90, `cases: ${cases.length}`));

  for (const c of cases) {
    test(`${c.id} (${c.expect})`, async () => {
      const r = await w.call('query_database', { connection: 'db', sql: c.sql ?? '' });
      const structured = JSON.stringify(r.structured ?? {});
      if (c.expect === 'allow') {
        assert.equal(r.isError, false, `${c.sql} should run: ${r.text}`);
        assert.ok(Array.isArray((r.structured as { rows?: unknown }).rows));
      } else if (c.expect === 'deny') {
        assert.equal(r.isError, true, `${String(c.sql).slice(0, 100)} must be refused: ${r.text.slice(0, 200)}`);
        assert.match(r.text, /^WARDEN_(DENIED|PARSE|INVALID_INPUT): \S/, 'a coded error with a reason');
        assert.doesNotMatch(r.text, /WARDEN_BACKEND_ERROR/, 'refused before anything reached the database');
      }
      assertNoLeak(c.id, r.text, structured);
      if (c.expect !== 'deny') {
        const l = await lineageOnly.call('query_database', { connection: 'db', sql: c.sql ?? '' });
        assertNoLeak(`${c.id} (lineage only)`, l.text, JSON.stringify(l.structured ?? {}));
      }
    });
  }

  test('afterwards the tables are unchanged and no server-side file or large object exists', async () => {
    assert.equal(await tablesSnapshot(), snapshot);
    assert.equal(existsSync('/tmp/warden-leak.csv'), false);
    const lo = await db.query('SELECT count(*)::int AS n FROM pg_largeobject_metadata');
    assert.equal((lo.rows[0] as { n: number }).n, 0);
  });

  test('the transcript never stored an unmasked value', () => {
    const raw = Buffer.concat([dir.dbPath, dir.dbPath + '-wal'].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
    for (const secret of [...EMAILS, ...SSNS, SECRET]) {
      // Arguments are stored as the agent sent them; the seeded values never appear in any argument.
      assert.equal(raw.includes(Buffer.from(secret)), false, `transcript file contains ${secret}`);
    }
  });
});
