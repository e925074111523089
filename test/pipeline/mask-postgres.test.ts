/**
 * The mask stage against what a real PostgreSQL returns through query_database: the driver parses
 * jsonb into objects (keys and nesting are data) and bytea into Buffers, and `bytea::text` is
 * hex. A secret in a jsonb key, deep inside a jsonb document or inside bytes reached the agent
 * and the transcript unmasked before; now neither sees it, and the transcript records counts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
masking:
  detectors: [email, credit_card, us_ssn, jwt, aws_access_key, private_key, password_in_url, bearer_token]
rules:
  - id: read-docs
    effect: allow
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.docs] }
`;

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'maskpg' });
  const deep = `${'['.repeat(40)}"owner dave@example.com"${']'.repeat(40)}`;
  await db.query(`
    CREATE TABLE docs (id int PRIMARY KEY, doc jsonb, blob bytea);
    INSERT INTO docs VALUES
      (1, '{"carol@example.com": {"role": "admin"}}', convert_to('card 4111 1111 1111 1111', 'UTF8')),
      (2, '${deep}', convert_to('nothing', 'UTF8'));
  `);
  await ownTables(db, ['docs']);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY });
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

test('jsonb keys, deep jsonb and bytea are masked for the agent and in the transcript', async () => {
  for (const sql of ['SELECT id, doc, blob FROM docs ORDER BY id', 'SELECT id, blob::text AS hex FROM docs ORDER BY id']) {
    const r = await warden.query(sql);
    assert.equal(r.isError, false, r.text);
    const seen = r.text + JSON.stringify(r.structured);
    for (const secret of ['carol', 'dave', '4111', '34313131']) assert.ok(!seen.includes(secret), `${sql}: the agent saw ${secret}: ${seen.slice(0, 400)}`);
  }
  const store = new Database(warden.dir.dbPath, { readonly: true });
  try {
    const records = (store.prepare('SELECT body FROM records').all() as { body: string }[]).map((b) => b.body);
    const calls = (store.prepare('SELECT result, masking FROM calls').all() as { result: string | null; masking: string | null }[]).map((c) => `${c.result} ${c.masking}`);
    const bodies = [...records, ...calls].join('\n');
    for (const secret of ['carol', 'dave', '4111', '34313131']) assert.ok(!bodies.includes(secret), `the transcript holds ${secret}`);
    assert.match(bodies, /"credit_card":1/);
  } finally {
    store.close();
  }
});
