/**
 * What a result carries on the wire: by default its text only (what agents read; a big table
 * is sent once), with `responses.structured_content: true` also structuredContent and an
 * outputSchema. Errors carry their structured code either way, and the transcript stores the
 * structured result either way.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';
import { WARDEN_BIN } from '../support/repo.js';

const config = (extra: string) => `transcripts: { store: sqlite:warden.db }
${extra}identity: { stdio: { subject: ana, groups: [analysts] } }
connections:
  main: { type: postgres, url: env:TEST_DATABASE_URL }
policies: [policies/*.yaml]
`;
const POLICY = `masking:
  detectors: [email]
rules:
  - id: read-items
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    sql: { statements: [select], read: [public.items] }
`;
const SQL = 'SELECT id, label, created FROM items ORDER BY id';

describe('result shape on the wire', () => {
  let db: TestDatabase;
  const dirs: WardenDir[] = [];
  const sessions: WardenSession[] = [];
  const start = async (extra: string) => {
    const dir = writeWardenDir(config(extra), { 'p.yaml': POLICY });
    dirs.push(dir);
    const w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: db.url });
    sessions.push(w);
    return { w, dir };
  };
  before(async () => {
    db = await createTestDatabase({ prefix: 'responses' });
    await db.query(`CREATE TABLE items (id int PRIMARY KEY, label text, created timestamptz);
      INSERT INTO items VALUES (1, 'mail ann@example.com', '2026-01-01T00:00:00Z'), (2, 'plain', NULL);
      GRANT SELECT ON items TO ${db.role};`);
  });
  after(async () => {
    for (const s of sessions) await s.close();
    await db?.drop();
    for (const d of dirs) d.cleanup();
  });

  test('default: text only, no outputSchema; errors keep their structured code; the transcript keeps the rows', async () => {
    const { w, dir } = await start('');
    const { tools } = await w.client.listTools();
    const q = tools.find((t) => t.name === 'query_database')!;
    assert.equal(q.outputSchema, undefined, 'no outputSchema when results carry no structuredContent');
    const r = await w.client.callTool({ name: 'query_database', arguments: { connection: 'main', sql: SQL } });
    assert.equal(r.isError, undefined);
    assert.equal(r.structuredContent, undefined);
    const text = (r.content as { text: string }[])[0]!.text;
    assert.equal(text, 'id\tlabel\tcreated\n1\tmail [email]\t2026-01-01 00:00:00+00\n2\tplain\tNULL\n(2 rows)');
    const call = (r._meta as Record<string, { call_id: string; rule_ids: string[] }>)['warden/call']!;
    assert.deepEqual(call.rule_ids, ['read-items']);
    assert.match(call.call_id, /^[0-9a-f-]{36}$/);
    const denied = await w.client.callTool({ name: 'query_database', arguments: { connection: 'main', sql: 'DELETE FROM items' } });
    assert.equal(denied.isError, true);
    assert.equal((denied.structuredContent as { error: { code: string } }).error.code, 'WARDEN_DENIED');
    await w.close();
    sessions.splice(sessions.indexOf(w), 1);
    const t = new Database(dir.dbPath, { readonly: true });
    try {
      const row = t.prepare("SELECT c.id, c.result, r.body FROM calls c JOIN records r ON r.seq = c.outcome_seq WHERE c.status = 'ok'").get() as { id: string; result: string | null; body: string };
      assert.equal(row.id, call.call_id, 'the call id in _meta names the transcript record');
      assert.equal(row.result, null, 'the result is stored once, in the hash-chained outcome record');
      const stored = (JSON.parse(row.body) as { result: { rows: unknown[][]; columns: { name: string }[] } }).result;
      assert.deepEqual(stored.rows, [[1, 'mail [email]', '2026-01-01 00:00:00+00'], [2, 'plain', null]]);
      assert.deepEqual(stored.columns.map((c) => c.name), ['id', 'label', 'created']);
    } finally {
      t.close();
    }
  });

  test('structured_content: true adds structuredContent matching the declared outputSchema', async () => {
    const { w } = await start('responses: { structured_content: true }\n');
    const { tools } = await w.client.listTools(); // the client now checks results against the schema
    assert.ok(tools.find((t) => t.name === 'query_database')!.outputSchema);
    const r = await w.client.callTool({ name: 'query_database', arguments: { connection: 'main', sql: SQL } });
    const s = r.structuredContent as { rows: unknown[][]; row_count: number; columns: Record<string, unknown>[] };
    assert.deepEqual(s.rows, [[1, 'mail [email]', '2026-01-01 00:00:00+00'], [2, 'plain', null]]);
    assert.equal(s.row_count, 2);
    assert.ok(s.columns.every((c) => !('fixedFormat' in c)), 'internal column flags stay internal');
    assert.match((r.content as { text: string }[])[0]!.text, /^id\tlabel\tcreated\n/);
  });

  test('a mistyped setting refuses the start with its line', async () => {
    const dir = writeWardenDir(config('responses: { structured_content: yes please }\n'), { 'p.yaml': POLICY });
    dirs.push(dir);
    const r = spawnSync(process.execPath, [WARDEN_BIN, 'serve', '--config', dir.configPath], { encoding: 'utf8', input: '', env: { ...process.env, TEST_DATABASE_URL: db.url } });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /warden\.yaml:2: responses\.structured_content/);
  });
});
