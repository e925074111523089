/**
 * Files that psql, mysql/mariadb and sqlite3 READ through their own languages (`\copy ... FROM
 * FILE`, `\lo_import FILE`, `LOAD DATA LOCAL INFILE`, `.import FILE`, `.restore`, `readfile()`,
 * `fsdir()`) are held to the grant's `paths:` exactly as the files they write are
 * (language-file-access.ts); a name Warden cannot read is refused. The READS cases were allowed
 * under `paths: [/srv]` before (a read fed by echo, or a relative name, escaped `paths:`).
 *
 * The script-file and program-spawning forms at the end were already refused before this file
 * (language-escapes.ts, the `redirection` construct); they are kept here as a record, one row per
 * form, so that a later change cannot let one through unnoticed.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { mysqlFiles, psqlFiles, sqliteFiles } from '../../../tools/shared/shell/language-file-access.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const verdict = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL);
const grant = (name: string, paths: string[] | null = ['/srv']) => ({
  pipelines: true,
  programs: { [name]: paths === null ? {} : { paths }, echo: {}, printf: {} },
});

before(async () => {
  await initShellParser();
});

/** [program, command line]: each reads a file outside /srv, or one Warden cannot name. */
const READS: readonly (readonly [string, string])[] = [
  ['psql', "echo '\\copy t from /etc/passwd' | psql"],
  ['psql', "echo \"\\\\copy t from '/etc/passwd' csv\" | psql"],
  ['psql', "echo \"\\\\copy t (a, b) FROM '/etc/passwd' with (format csv)\" | psql"],
  ['psql', "psql -c '\\copy t from passwd'"],
  ['psql', "echo \"\\\\copy t from E'/srv/\\\\x'\" | psql"],
  ['psql', "echo \"\\\\copy t from '/srv/a' '/../../etc/passwd'\" | psql"],
  ['psql', "echo '\\lo_import /etc/passwd' | psql"],
  ['psql', "psql -c '\\lo_import passwd'"],
  // A file whose name begins with a keyword is a file (psql compares the whole word).
  ['psql', "psql -c '\\copy t from stdin.csv'"],
  ['psql', "echo '\\copy t to stdout \\lo_import /etc/shadow' | psql"],
  // Server-side COPY FROM reads on the database host: judged on the same prefixes, as COPY TO is.
  ['psql', "echo \"COPY t FROM '/etc/passwd'\" | psql"],
  // A comment hiding the real direction does not hide the FROM after it.
  ['psql', "printf '%s\\n' 'copy t -- to /srv/x' \"from '/etc/passwd'\" | psql"],
  ['mysql', "echo \"LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t\" | mysql"],
  ['mysql', "mysql -e \"load data local infile 'passwd' into table t\""],
  ['mysql', "echo \"LOAD XML LOCAL INFILE '/etc/x.xml' INTO TABLE t\" | mysql"],
  ['mysql', "echo \"LOAD DATA INFILE concat('/etc', '/passwd') INTO TABLE t\" | mysql"],
  ['mariadb', "echo \"LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t\" | mariadb"],
  ['sqlite3', "echo '.import /etc/passwd t' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo '.import passwd t' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo '.import --csv --skip 1 /etc/passwd t' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo '.im /etc/passwd t' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo '.restore /etc/x.db' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo '.restore main /etc/x.db' | sqlite3 /srv/app.db"],
  ['sqlite3', "echo \"select readfile('/etc/passwd')\" | sqlite3 /srv/app.db"],
  ['sqlite3', "sqlite3 /srv/app.db \"select readfile('passwd')\""],
  ['sqlite3', "echo \"select readfile('/srv/' || 'x')\" | sqlite3 /srv/app.db"],
  ['sqlite3', "echo \"select name, data from fsdir('/etc')\" | sqlite3 /srv/app.db"],
  ['sqlite3', "echo \"select data from fsdir('passwd', '/etc')\" | sqlite3 /srv/app.db"],
];

test('with paths:, files a database client reads through its language must lie under them', () => {
  for (const [program, cmd] of READS) {
    const r = verdict(grant(program), cmd);
    assert.equal(r.matched, false, `${cmd} was allowed`);
    assert.match(r.why, /read|cannot be read/, `${cmd}: ${r.why}`);
  }
});

test('with paths:, reads under them, and queries that read no file, stay allowed', () => {
  for (const [program, cmd] of [
    ['psql', "echo '\\copy t from /srv/a.csv' | psql"],
    ['psql', "echo \"\\\\copy t (a, b) from '/srv/a.csv' with (format csv, header)\" | psql"],
    ['psql', "echo '\\copy t from stdin' | psql"],
    ['psql', "echo '\\copy t from pstdin csv' | psql"],
    ['psql', "echo 'copy (select a from t join u on true) to stdout' | psql"],
    ['psql', "echo '\\lo_import /srv/blob.bin' | psql"],
    ['psql', "psql -c 'select a from t'"],
    ['mysql', "echo \"LOAD DATA LOCAL INFILE '/srv/a.csv' INTO TABLE t\" | mysql"],
    ['mysql', "mysql -e 'select a from t'"],
    ['sqlite3', "echo '.import /srv/a.csv t' | sqlite3 /srv/app.db"],
    ['sqlite3', "echo '.import --csv --skip 1 --schema main /srv/a.csv t' | sqlite3 /srv/app.db"],
    ['sqlite3', "echo '.restore /srv/backup.db' | sqlite3 /srv/app.db"],
    ['sqlite3', "echo \"select readfile('/srv/a.txt')\" | sqlite3 /srv/app.db"],
    ['sqlite3', "echo \"select name from fsdir('/srv/data')\" | sqlite3 /srv/app.db"],
    ['sqlite3', "sqlite3 /srv/app.db 'select a from t'"],
  ] as const) {
    const r = verdict(grant(program), cmd);
    assert.equal(r.matched, true, `${cmd}: ${r.why}`);
  }
});

test('without paths:, a grant of a database client still lets it read files, like cat', () => {
  assert.equal(verdict(grant('psql', null), "echo '\\copy t from /etc/passwd' | psql").matched, true);
  assert.equal(verdict(grant('sqlite3', null), "echo '.import /etc/passwd t' | sqlite3 /tmp/a.db").matched, true);
  assert.equal(verdict(grant('mysql', null), "echo \"LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t\" | mysql").matched, true);
});

test('a written file named like a keyword (stdout.csv) is a file too', () => {
  const r = verdict(grant('psql'), "psql -c '\\copy t to stdout.csv'");
  assert.equal(r.matched, false);
  assert.ok(r.why.includes("writes 'stdout.csv'"), r.why);
});

test('the refusal names the file read and the grant', () => {
  const r = verdict(grant('psql'), "echo '\\copy t from /etc/passwd' | psql");
  assert.ok(r.why.includes("reads '/etc/passwd'") && r.why.includes('/srv'), r.why);
});

test('the judges return reads and writes apart', () => {
  assert.deepEqual(psqlFiles("COPY (select 1 from x) TO '/c'\n\\copy t from '/a' \n\\o /b"), { reads: ['/a'], writes: ['/b', '/c'] });
  assert.deepEqual(psqlFiles('\\lo_import /a \\lo_export 1 /b'), { reads: ['/a'], writes: ['/b'] });
  assert.deepEqual(mysqlFiles("LOAD DATA LOCAL INFILE '/a' INTO TABLE t; select 1 into outfile '/b'"), { reads: ['/a'], writes: ['/b'] });
  assert.deepEqual(sqliteFiles("select readfile('/c');\n.import /a t\n.output /b"), { reads: ['/a', '/c'], writes: ['/b'] });
  assert.ok('unreadable' in psqlFiles("\\copy t from E'/a'"));
  // Generous: after a COPY of a table, every FROM to the end of the text names a file read.
  assert.deepEqual(psqlFiles("\\copy t from '/a'\nselect 1 from x"), { reads: ['/a', 'x'], writes: [] });
});

/**
 * Script files and read standard input: a script's commands are never read by Warden (it cannot
 * read the file over SSH at decision time), so they are refused whatever `paths:` says; reading a
 * granted path would still run unread commands. Refused before this change too (record).
 */
const SCRIPTS: readonly (readonly [string, string])[] = [
  ['psql', 'psql -f /srv/x.sql'],
  ['psql', 'psql --file=/srv/x.sql'],
  ['psql', "psql -c '\\i /srv/x.sql'"],
  ['psql', "psql -c '\\ir x.sql'"],
  ['psql', "psql -c '\\include /srv/x.sql'"],
  ['psql', "psql -c '\\include_relative x.sql'"],
  ['psql', "echo '\\i /srv/x.sql' | psql"],
  ['psql', 'psql < /srv/x.sql'],
  ['psql', 'psql <<< "\\i /srv/x.sql"'],
  ['mysql', "mysql -e 'source /srv/x.sql'"],
  ['mysql', "mysql -e '\\. /srv/x.sql'"],
  ['mysql', "mysql --init-command='source /srv/x.sql'"],
  ['mysql', 'mysql < /srv/x.sql'],
  ['sqlite3', "sqlite3 /srv/app.db '.read /srv/x.sql'"],
  ['sqlite3', "echo '.rea /srv/x.sql' | sqlite3 /srv/app.db"],
  ['sqlite3', 'sqlite3 -init /srv/x.sql /srv/app.db'],
  ['sqlite3', "sqlite3 /srv/app.db '.load /srv/x.so'"],
  ['sqlite3', "sqlite3 /srv/app.db \"select load_extension('/srv/x.so')\""],
  ['sqlite3', 'sqlite3 /srv/app.db < /srv/x.sql'],
];

test('script files and redirected standard input are refused whatever paths: grants', () => {
  for (const [program, cmd] of SCRIPTS) {
    for (const paths of [['/srv'], null]) {
      const r = verdict(grant(program, paths), cmd);
      assert.equal(r.matched, false, `${cmd} was allowed`);
    }
  }
});

/** Programs a client can start: refused outright (record). */
const SPAWNS: readonly (readonly [string, string])[] = [
  ['psql', "psql -c '\\! id'"],
  ['psql', "psql -c '\\setenv PAGER id'"],
  ['psql', "psql -c 'select 1 \\g |id'"],
  ['psql', "psql -c '\\o |id'"],
  ['psql', "psql -c \"\\copy t to program 'id'\""],
  ['psql', "psql -c \"\\copy t from program 'id'\""],
  ['psql', "psql -c \"COPY t FROM PROGRAM 'id'\""],
  ['psql', 'PAGER=id psql -c "select 1"'],
  ['mysql', "mysql -e '\\! id'"],
  ['mysql', "mysql -e 'system id'"],
  ['mysql', "mysql -e 'pager id'"],
  ['mysql', "mysql -e '\\P id'"],
  ['mysql', 'mysql --pager=id -e "select 1"'],
  ['sqlite3', "sqlite3 /x.db '.system id'"],
  ['sqlite3', "sqlite3 /x.db '.shell id'"],
  ['sqlite3', "sqlite3 /x.db '.once |id'"],
  ['sqlite3', "sqlite3 /x.db '.output |id'"],
  ['sqlite3', "sqlite3 /x.db '.excel'"],
  ['sqlite3', "sqlite3 /x.db '.www'"],
  ['sqlite3', "sqlite3 /x.db '.import \"|id\" t'"],
];

test('programs a database client can start are refused', () => {
  for (const [program, cmd] of SPAWNS) {
    const r = verdict(grant(program, null), cmd);
    assert.equal(r.matched, false, `${cmd} was allowed`);
  }
});
