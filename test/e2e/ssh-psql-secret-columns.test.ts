/**
 * End to end, red team: an agent granted psql on ssh_run printed a table's password column
 * (`psql -c 'select * from users'`): the value stands under its column's name, not beside it, so
 * no name form read it. Through a real sshd and the suite's PostgreSQL, every form psql prints
 * (aligned, wrapped, expanded, `\x auto`, unaligned with `|`, `,` and `;`, CSV, borders 0 and 2,
 * Unicode lines) now masks a column whose header names a secret (secret-columns.ts), multi-line,
 * wrapped, wide-character and separator-holding values included, while the other columns and a
 * count column (`token_count`) are shown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { startSshWarden, type SshWarden } from '../support/ssh-warden.js';

let sshd: Sshd;
let db: TestDatabase;
let sw: SshWarden;
let PSQL = '';

/** The secrets stored in the table: none may reach the agent in any form. */
const SECRETS = ['hunter2a', 'LEAKpw|pipe', 'LEAKmulti', 'LEAKline2', 'LEAKlongwrappedpasswordvalue', 'k-LEAK-1', 'k-LEAK-2', 'k-LEAK-3'];
const LEAK = /hunter2a|LEAK/;

before(async () => {
  sshd = await startSshd();
  db = await createTestDatabase({ prefix: 'ssh_psql_cols' });
  await db.query('CREATE TABLE users (id int, name text, password text, api_key text, token_count int)');
  await db.query(`INSERT INTO users VALUES
    (1, 'alice', 'hunter2a', 'k-LEAK-1', 12),
    (2, 'bob, jr', 'LEAKpw|pipe', 'k-LEAK-2', 7),
    (3, '中文名字', E'LEAKmulti\\nLEAKline2', 'k-LEAK-3', 3),
    (4, 'carol', 'LEAKlongwrappedpasswordvalue', '', 0)`);
  await db.query(`GRANT SELECT ON users TO ${db.role}`);
  const conninfo = `host=${db.host} port=${db.port} user=${db.role} password=${db.password} dbname=${db.dbName}`;
  PSQL = `psql -X -d '${conninfo}'`;
  sw = await startSshWarden(sshd, `
rules:
  - id: db-read
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [db-host]
    shell:
      programs:
        psql: {}
`, 'db-host');
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  await db?.drop();
});

const SELECT = `-c 'select * from users order by id'`;

/** The psql options of each output form. */
const FORMS: Record<string, string> = {
  aligned: '',
  wrapped: '-P format=wrapped -P columns=40',
  'wrapped by \\pset': `-c '\\pset format wrapped' -c '\\pset columns 40'`,
  expanded: '-x',
  'expanded, \\x auto': `-c '\\x auto' -P columns=30`,
  'expanded wrapped': '-x -P format=wrapped -P columns=30',
  'border 2': '-P border=2',
  'border 0': '-P border=0',
  'expanded border 2': '-x -P border=2',
  'expanded border 0': '-x -P border=0',
  unicode: '-P linestyle=unicode',
  'unicode expanded border 2': '-x -P linestyle=unicode -P border=2',
  unaligned: '-A',
  'unaligned -F ,': '-A -F ,',
  'unaligned -F ;': `-A -F ';'`,
  'unaligned expanded': '-A -x',
  csv: '--csv',
};

describe('ssh_run: psql results with a secret column', () => {
  for (const [form, options] of Object.entries(FORMS)) {
    test(`${form}: the password and api_key values are masked, the other columns shown`, async () => {
      const out = await sw.ran(`${PSQL} ${options} ${SELECT}`);
      for (const s of SECRETS) assert.equal(out.includes(s), false, `${form} shows ${s}:\n${out}`);
      assert.doesNotMatch(out, LEAK, out);
      assert.match(out, /\*\*\*/, out);
      assert.match(out, /alice/, out);
      assert.match(out, /carol/, out);
      assert.match(out, /password/, out);
    });
  }

  test('a count column beside a secret word keeps its numbers (aligned and CSV)', async () => {
    const aligned = await sw.ran(`${PSQL} -c 'select id, token_count from users order by id'`);
    assert.match(aligned, /^ +1 \| +12$/m, aligned);
    const csv = await sw.ran(`${PSQL} --csv -c 'select id, token_count, password from users order by id'`);
    assert.match(csv, /^1,12,\*\*\*$/m, csv);
  });

  test('a table without a secret column is shown as psql printed it', async () => {
    const out = await sw.ran(`${PSQL} -c 'select id, name from users order by id'`);
    assert.match(out, / id \| +name +\n-+\+-+\n +1 \| alice/, out);
    assert.doesNotMatch(out, /\*\*\*/, out);
  });
});
