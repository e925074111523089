/**
 * Files that psql, mysql/mariadb and sqlite3 write through their own languages (`\o FILE`,
 * `INTO OUTFILE`, `.output FILE`, `ATTACH`, the database operand) are held to the grant's
 * `paths:` like `sort -o FILE`; a name Warden cannot read is refused. And the rebuilt line keeps
 * these programs from reading their start-up files (~/.psqlrc, ~/.my.cnf, ~/.sqliterc).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { canonicalCommandLine, initShellParser, parseArgv, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const verdict = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL);
const SRV = ['/srv'];
const grant = (name: string, paths: string[] | null = SRV) => ({
  pipelines: true,
  programs: { [name]: paths === null ? {} : { paths }, echo: {}, printf: {}, ssh: {} },
});

before(async () => {
  await initShellParser();
});

/** [program, command line]: each writes a file outside /srv (or one Warden cannot name). */
const OUTSIDE: readonly (readonly [string, string])[] = [
  ['psql', "psql -c '\\o out.txt'"],
  ['psql', "echo '\\o /home/u/.bashrc' | psql"],
  ['psql', "echo '\\out /etc/x' | psql"],
  ['psql', "echo 'select 1 \\g /etc/x' | psql"],
  ['psql', "echo 'select 1 \\gx /etc/x' | psql"],
  ['psql', "echo 'select 1 \\g (format=csv) /etc/x' | psql"],
  ['psql', "echo '\\w /etc/x' | psql"],
  ['psql', "echo '\\s /etc/x' | psql"],
  ['psql', "echo '\\lo_export 1 /etc/x' | psql"],
  ['psql', "echo '\\o /srv/ok \\o /etc/x' | psql"],
  ['psql', "echo \"\\\\o '/srv/a'/../../etc/x\" | psql"],
  ['psql', "echo \"\\\\copy t to '/etc/x'\" | psql"],
  ['psql', "echo '\\copy (select 1) TO /etc/x csv' | psql"],
  ['psql', "echo \"COPY t TO '/etc/x'\" | psql"],
  ['psql', "echo \"COPY t TO E'/srv/\\\\x'\" | psql"],
  ['psql', "psql -o out.txt -c 'select 1'"],
  ['psql', "psql -L log.txt -c 'select 1'"],
  ['mysql', "echo \"select 1 into outfile '/etc/x'\" | mysql"],
  ['mysql', "echo \"select 1 INTO DUMPFILE \\\"/etc/x\\\"\" | mysql"],
  ['mysql', "echo \"select 1 into outfile '/srv/a' '/../etc/x'\" | mysql"],
  ['mysql', "echo \"select 1 into /*!50000OUTFILE*/ '/etc/x'\" | mysql"],
  ['mysql', "mysql --init-command=\"select 1 into outfile 'x'\""],
  ['mariadb', "echo \"select 1 into outfile 'x'\" | mariadb"],
  ['sqlite3', "sqlite3 app.db 'select 1'"],
  ['sqlite3', "sqlite3 /srv/app.db \"VACUUM INTO 'copy.db'\""],
  ['sqlite3', "echo '.output /etc/x' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo '.once /etc/x' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo '.o /etc/x' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo '.save /etc/x' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo '.backup main /etc/x' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo '.log /etc/x' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo '.open /etc/x' | sqlite3"],
  ['sqlite3', "echo '.output /srv/a;/../../etc/x' | sqlite3 /srv/app.db"],
  ['sqlite3', "sqlite3 -cmd \"ATTACH 'x' AS y\" /srv/app.db 'select 1'"],
  ['sqlite3', "echo \"ATTACH DATABASE '/etc/x' AS y\" | sqlite3 /srv/app.db"],
  ['sqlite3', "echo \"attach '/srv/a' || '/../../etc/x' as y\" | sqlite3 /srv/app.db"],
  ['sqlite3', "echo \"VACUUM INTO '/etc/x'\" | sqlite3 /srv/app.db"],
  ['sqlite3', "echo \".archive -c -f /etc/x\" | sqlite3 /srv/app.db"],
];

test('with paths:, files a database client writes through its language must lie under them', () => {
  for (const [program, cmd] of OUTSIDE) {
    const r = verdict(grant(program), cmd);
    assert.equal(r.matched, false, `${cmd} was allowed`);
  }
});

test('with paths:, writes under them and ordinary queries stay allowed', () => {
  for (const [program, cmd] of [
    ['psql', "psql -h db -U app -c 'select 1'"],
    ['psql', "echo '\\o /srv/out.txt' | psql"],
    ['psql', "echo 'select 1 \\g /srv/out.txt' | psql"],
    ['psql', "echo \"\\\\copy t to '/srv/t.csv' csv\" | psql"],
    ['psql', "echo '\\copy t to stdout' | psql"],
    ['psql', "psql -c '\\dt'"],
    ['mysql', "mysql -u app -h db -e 'show tables'"],
    ['mysql', "echo \"select 1 into outfile '/srv/x.csv'\" | mysql"],
    ['sqlite3', "sqlite3 /srv/app.db 'select count(*) from t'"],
    ['sqlite3', "echo '.output /srv/out.txt' | sqlite3 /srv/app.db"],
    ['sqlite3', "echo \"ATTACH '/srv/b.db' AS b\" | sqlite3 /srv/app.db"],
    ['sqlite3', "echo \"VACUUM INTO '/srv/copy.db'\" | sqlite3 /srv/app.db"],
    ['sqlite3', "sqlite3 ':memory:' 'select 1'"],
  ] as const) {
    const r = verdict(grant(program), cmd);
    assert.equal(r.matched, true, `${cmd}: ${r.why}`);
  }
});

test('without paths:, a grant of a database client still lets it write, like sort -o', () => {
  assert.equal(verdict(grant('psql', null), "echo '\\o /tmp/out' | psql").matched, true);
  assert.equal(verdict(grant('sqlite3', null), "echo '.output /tmp/out' | sqlite3 /tmp/a.db").matched, true);
});

test('a psql line with several meta-commands has each judged (\\dt \\! id)', () => {
  const r = verdict(grant('psql', null), "echo '\\dt \\! id' | psql");
  assert.equal(r.matched, false, r.why);
  assert.ok(r.why.includes('\\!'), r.why);
});

test('sqlite3 .www and .once -w open a program', () => {
  for (const cmd of ["sqlite3 /x.db '.www'", "sqlite3 /x.db '.once -w'"]) assert.equal(verdict(grant('sqlite3', null), cmd).matched, false, cmd);
});

test('the rebuilt line keeps psql, mysql, mariadb and sqlite3 from reading their start-up files', () => {
  assert.equal(canonicalCommandLine(parseShell("psql -h db -U app -c 'select 1'")), "'psql' -X -h db -U app -c 'select 1'");
  assert.equal(canonicalCommandLine(parseShell("mysql -e 'select 1'")), "'mysql' --no-defaults -e 'select 1'");
  assert.equal(canonicalCommandLine(parseShell('mariadb --no-defaults -e x')), "'mariadb' --no-defaults -e x");
  assert.equal(canonicalCommandLine(parseShell("echo 'select 1' | sqlite3 /srv/a.db")), "'echo' 'select 1' | 'sqlite3' -init /dev/null /srv/a.db");
  assert.equal(canonicalCommandLine(parseArgv(['ls', '-l'])), "'ls' -l");
});

test('an ssh remote command (not rebuilt) must start these programs with the guard itself', () => {
  const block = { programs: { ssh: {}, psql: {}, sqlite3: {} } };
  const r = verdict(block, "ssh db-1 psql -c \"'select 1'\"");
  assert.equal(r.matched, false);
  assert.ok(r.why.includes('-X'), r.why);
  assert.equal(verdict(block, "ssh db-1 psql -X -c \"'select 1'\"").matched, true);
  assert.equal(verdict(block, 'ssh db-1 sqlite3 -init /dev/null /srv/a.db .tables').matched, true);
  assert.equal(verdict(block, 'ssh db-1 sqlite3 /srv/a.db .tables').matched, false);
});
