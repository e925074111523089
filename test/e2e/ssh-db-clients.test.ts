/**
 * End to end: database clients granted to `ssh_run` (psql against the suite's PostgreSQL cluster,
 * sqlite3 on the host), through `warden serve`, the real MCP client and a real OpenSSH sshd.
 * A script file planted on the host, even under the grant's `paths:`, holds commands Warden
 * never read (`\! touch MARKER`, `.shell touch MARKER`): running it (`\i`, `-f`, `.read`) is
 * refused, no session reaches the host and the marker never appears, while the same file run
 * outside Warden does create it (the control: the plant is real). Files the clients read
 * (`\copy ... FROM`, `.import`, `readfile()`) are held to `paths:`: outside refused, inside run
 * and really loaded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { chownToLogin, pollUntil, startSshd, type Sshd } from '../support/sshd.js';
import { startSshWarden, type SshWarden } from '../support/ssh-warden.js';

let sshd: Sshd;
let db: TestDatabase;
let sw: SshWarden;
let BASE = '';
let DATA = '';
let CONNINFO = '';
/** psql with its connection, as the agent writes it. */
let PSQL = '';

const marker = (name: string): string => join(BASE, `pwned-${name}`);

before(async () => {
  sshd = await startSshd();
  db = await createTestDatabase({ prefix: 'ssh_db_clients' });
  await db.query('CREATE TABLE t (a text)');
  await db.query(`GRANT SELECT, INSERT ON t TO ${db.role}`);
  // Keyword/value, not a URL: a word with a slash is a path to a `paths:` grant.
  CONNINFO = `host=${db.host} port=${db.port} user=${db.role} password=${db.password} dbname=${db.dbName}`;
  PSQL = `psql -d '${CONNINFO}'`;
  BASE = mkdtempSync(join(tmpdir(), 'wdbc-'));
  chmodSync(BASE, 0o777);
  DATA = join(BASE, 'data');
  mkdirSync(DATA);
  // Planted under the granted path: reading it is allowed, running it must not be.
  writeFileSync(join(DATA, 'plant.sql'), `\\! touch ${marker('psql')}\n`);
  writeFileSync(join(DATA, 'plant-sqlite.sql'), `.shell touch ${marker('sqlite')}\n`);
  writeFileSync(join(DATA, 'rows.csv'), 'granted-row\n');
  writeFileSync(join(BASE, 'secret.txt'), 'secret-row\n');
  for (const p of [BASE, DATA, ...['plant.sql', 'plant-sqlite.sql', 'rows.csv'].map((f) => join(DATA, f)), join(BASE, 'secret.txt')]) chownToLogin(p, sshd);
  const P = JSON.stringify([DATA]);
  const policy = `
rules:
  - id: db-clients
    effect: allow
    who: { groups: [sre] }
    tool: ssh_run
    on: [db-host]
    shell:
      pipelines: true
      programs:
        psql: { paths: ${P} }
        sqlite3: { paths: ${P} }
        printf: {}
`;
  sw = await startSshWarden(sshd, policy, 'db-host');
  const warm = await sw.run(`${PSQL} -c 'select 1'`);
  assert.equal(warm.isError, false, warm.text);
});

after(async () => {
  await sw?.close();
  await sshd?.stop();
  await db?.drop();
  if (BASE) rmSync(BASE, { recursive: true, force: true });
});

/** Refused before any session reached the host (SshWarden.refused). */
const refused = (command: string, mentions: RegExp): Promise<void> => sw.refused(command, mentions);

/** Calls ssh_run and asserts it ran, with exit code 0; returns its stdout. */
const ran = (command: string): Promise<string> => sw.ran(command);

describe('ssh_run: database clients and the files their languages run and read', () => {
  test('control: the planted scripts really run their shell escapes when a client runs them', () => {
    const p = spawnSync('psql', ['-X', '-d', CONNINFO, '-c', `\\i ${join(DATA, 'plant.sql')}`], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    assert.equal(existsSync(marker('psql')), true, 'psql \\i ran the planted \\!');
    rmSync(marker('psql'));
    const s = spawnSync('sqlite3', ['-init', '/dev/null', ':memory:', `.read ${join(DATA, 'plant-sqlite.sql')}`], { encoding: 'utf8' });
    assert.equal(s.status, 0, s.stderr);
    assert.equal(existsSync(marker('sqlite')), true, 'sqlite3 .read ran the planted .shell');
    rmSync(marker('sqlite'));
  });

  test('psql \\i (and -f, and \\i fed on stdin) of a planted file under paths: is refused; the marker never appears', async () => {
    const plant = join(DATA, 'plant.sql');
    await refused(`${PSQL} -c '\\i ${plant}'`, /\\i runs commands from a file/);
    await refused(`${PSQL} -c '\\ir ${plant}'`, /\\ir/);
    await refused(`${PSQL} -f ${plant}`, /script file/);
    await refused(`printf '%s\\n' '\\i ${plant}' | ${PSQL}`, /\\i/);
    await refused(`${PSQL} < ${plant}`, /redirection/);
    assert.equal(existsSync(marker('psql')), false, 'no planted command ran');
  });

  test('sqlite3 .read, -init and a redirected script are refused; the marker never appears', async () => {
    const plant = join(DATA, 'plant-sqlite.sql');
    await refused(`sqlite3 ${join(DATA, 'app.db')} '.read ${plant}'`, /\.read/);
    await refused(`sqlite3 -init ${plant} ${join(DATA, 'app.db')} 'select 1'`, /-init/);
    await refused(`sqlite3 ${join(DATA, 'app.db')} < ${plant}`, /redirection/);
    assert.equal(existsSync(marker('sqlite')), false, 'no planted command ran');
  });

  test('psql \\copy FROM a file outside paths: is refused; inside, the rows are really loaded', async () => {
    await refused(`printf '%s\\n' '\\copy t from ${join(BASE, 'secret.txt')}' | ${PSQL}`, /reads '.*secret\.txt', which is not an absolute path under/);
    await refused(`printf '%s\\n' '\\lo_import ${join(BASE, 'secret.txt')}' | ${PSQL}`, /reads/);
    await ran(`printf '%s\\n' '\\copy t from ${join(DATA, 'rows.csv')}' | ${PSQL}`);
    const rows = await db.query<{ a: string }>('SELECT a FROM t ORDER BY a');
    assert.deepEqual(rows.rows.map((r) => r.a), ['granted-row'], 'only the granted file was read');
  });

  test('sqlite3 .import and readfile() of a file outside paths: are refused; inside, they run', async () => {
    const app = join(DATA, 'app.db');
    await refused(`printf '%s\\n' '.import --csv ${join(BASE, 'secret.txt')} t' | sqlite3 ${app}`, /reads '.*secret\.txt'/);
    await refused(`printf '%s\\n' "select readfile('${join(BASE, 'secret.txt')}');" | sqlite3 ${app}`, /reads '.*secret\.txt'/);
    await ran(`printf '%s\\n' 'create table t(a);' '.import --csv ${join(DATA, 'rows.csv')} t' | sqlite3 ${app}`);
    const out = await ran(`printf '%s\\n' 'select a from t;' "select readfile('${join(DATA, 'rows.csv')}');" | sqlite3 ${app}`);
    assert.equal(out, 'granted-row\ngranted-row\n\n');
    assert.equal(await pollUntil(() => !existsSync(marker('sqlite')), 10), true);
  });
});
