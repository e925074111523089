/**
 * explain_call (and so `warden policy explain|test`, which share explainCall) must decide
 * describe_database as the pipeline does: a discovery tool is decided by the grants of the tool
 * it describes (engine.ts decideDiscovery), not by rules naming describe_database itself. Each
 * case runs the call for real on `warden serve` against a real PostgreSQL, then asks explain_call
 * about the same principal and call, and compares effect and rule ids.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden } from '../support/sql-warden.js';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WARDEN_BIN } from '../support/repo.js';
import { writeWardenDir } from '../support/warden-process.js';

const POLICY = `rules:
  - id: analysts-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.users] }
  - id: no-contractors
    effect: deny
    who: { groups: [contractors] }
    tool: query_database
`;

const config = (subject: string, groups: string[]) => `
transcripts: { store: sqlite:warden.db }
responses: { structured_content: true }
identity: { stdio: { subject: ${subject}, groups: [${groups.join(', ')}] } }
admins: { groups: [policy-admins] }
connections:
  db: { type: postgres, url: env:TEST_DATABASE_URL, statement_timeout: 3s }
policies: [policies/*.yaml]
`;

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase({ prefix: 'explaindisc' });
  await db.query('CREATE TABLE users (id int PRIMARY KEY, name text)');
  await ownTables(db, ['users']);
});
after(async () => {
  await db?.drop();
});

for (const [subject, groups, effect, ruleIds] of [
  ['ana', ['analysts', 'policy-admins'], 'allow', ['analysts-read']],
  ['carl', ['analysts', 'contractors', 'policy-admins'], 'deny', ['no-contractors']],
] as const) {
  test(`describe_database as ${subject}: explain_call says what the server does (${effect})`, async () => {
    const w = await startSqlWarden(db, { 'p.yaml': POLICY }, config(subject, [...groups]));
    try {
      const real = await w.w.call('describe_database', { connection: 'db' });
      assert.equal(real.isError, effect === 'deny', real.text.slice(0, 300));
      if (effect === 'deny') assert.match(real.text, new RegExp(`WARDEN_DENIED[\\s\\S]*${ruleIds[0]}`));
      const r = await w.w.call('explain_call', { as: { subject, groups: [...groups] }, tool: 'describe_database', arguments: { connection: 'db' } });
      assert.equal(r.isError, false, r.text);
      const d = (r.structured as { data: { decision: { effect: string; rule_ids: string[]; reason: string } } }).data.decision;
      assert.equal(d.effect, effect, `explain_call: ${d.reason}`);
      assert.deepEqual(d.rule_ids, [...ruleIds]);
    } finally {
      await w.close();
    }
  });
}

test('warden policy test decides describe_database as the server does (the same cases as above)', async () => {
  const dir = writeWardenDir(config('ana', ['analysts']), { 'p.yaml': POLICY });
  try {
    mkdirSync(join(dir.dir, 'policies', 'tests'), { recursive: true });
    writeFileSync(
      join(dir.dir, 'policies', 'tests', 'describe.yaml'),
      `cases:
  - name: analysts may describe db
    principal: { subject: ana, groups: [analysts] }
    tool: describe_database
    arguments: { connection: db }
    expect: { effect: allow, rules: [analysts-read] }
  - name: contractors may not
    principal: { subject: carl, groups: [analysts, contractors] }
    tool: describe_database
    arguments: { connection: db }
    expect: { effect: deny, rules: [no-contractors] }
`,
    );
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
      execFile(process.execPath, [WARDEN_BIN, 'policy', 'test', '--config', dir.configPath, '--json'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }, (e, out, err) =>
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, out, err }),
      ),
    );
    assert.equal(r.code, 0, `${r.out}\n${r.err}`);
    assert.equal((JSON.parse(r.out) as { passed: number }).passed, 2);
  } finally {
    dir.cleanup();
  }
});
