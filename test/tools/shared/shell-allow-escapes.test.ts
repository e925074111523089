/**
 * The allow side of programs with a command language: a grant of psql, mysql, sqlite3, dc, m4,
 * gnuplot, ftp or lftp must not let the text the line gives them (an option's value, an operand,
 * `echo ... |` in front) run another program through their shell escapes, pipes or editors, nor
 * run a script file Warden cannot read. Each case below passed `programs: { psql: {} }` and the
 * like before command-languages.ts. Options that run a program (tar, sort, rsync, ssh, zip, git,
 * find, awk, sed, wrappers) were already refused by the injection catalogue: kept here as a record.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { LANGUAGES } from '../../../tools/shared/shell/command-languages.js';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { ESCAPING } from '../../../tools/shared/shell/runners.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const verdict = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL);
const grant = (...names: string[]) => ({ pipelines: true, programs: Object.fromEntries([...names, 'echo', 'printf', 'grep', 'cat'].map((n) => [n, {}])) });

before(async () => {
  await initShellParser();
});

/** [program granted, command line, a word the refusal must name]. */
const ESCAPES: readonly (readonly [string, string, string])[] = [
  ['psql', "psql -c '\\! id'", '\\!'],
  ['psql', 'psql --command="\\! id"', '\\!'],
  ['psql', 'psql -X -d app -c "\\! id"', '\\!'],
  ['psql', "psql -c '\\o |id'", '\\o'],
  ['psql', "psql -c 'select 1 \\g |id'", '\\g'],
  ['psql', "psql -c 'select 1' -c '\\w |id'", '\\w'],
  ['psql', "psql -c \"\\copy t from program 'id'\"", 'PROGRAM'],
  ['psql', "psql -c \"COPY t TO PROGRAM 'id'\"", 'PROGRAM'],
  ['psql', "psql -c '\\e'", 'editor'],
  ['psql', "psql -c '\\i /tmp/x.sql'", 'file'],
  ['psql', "psql -c '\\setenv PAGER id'", 'setenv'],
  ['psql', "psql -c '\\set x `id`'", 'backquote'],
  ['psql', "psql -v x='|id' -c '\\o :x'", 'variable'],
  ['psql', 'psql -f /tmp/x.sql', '-f'],
  ['psql', 'psql --file=/tmp/x.sql', '-f'],
  ['psql', "psql -o '|id' -c 'select 1'", '-o'],
  ['psql', "psql --output='|id' -c 'select 1'", '-o'],
  ['psql', "echo '\\! id' | psql", '\\!'],
  ['psql', "printf '\\\\%s\\n' '! id' | psql", '\\!'],
  ['psql', "echo -e '\\x5c! id' | psql", '\\!'],
  ['psql', "echo '\\0134! id' | psql", '\\!'],
  ['psql', "printf '%b' '\\0134! id' | psql", '\\!'],
  ['psql', "printf '%c' '\\' | psql", 'standard input'],
  ['psql', "cat /tmp/x.sql | psql", 'standard input'],
  ['psql', "psql -c 'select 1' | psql", 'standard input'],
  ['mysql', "mysql -e 'system id'", 'system'],
  ['mysql', "mysql -e 'select 1; system id'", 'system'],
  ['mysql', "mysql -e '\\! id'", '\\!'],
  ['mysql', 'mysql --execute="system id"', 'system'],
  ['mysql', "mysql -e 'pager id'", 'pager'],
  ['mysql', "mysql -e 'source /tmp/x.sql'", 'source'],
  ['mysql', 'mysql --pager=id -e "select 1"', '--pager'],
  ['mysql', 'mysql --defaults-extra-file=/tmp/x.cnf -e "select 1"', '--defaults-extra-file'],
  ['mysql', 'mysql --plugin-dir=/tmp --default-auth=x -e "select 1"', '--plugin-dir'],
  ['mysql', "mysql -Ge 'select 1'", '-G'],
  ['mariadb', "mariadb -e 'system id'", 'system'],
  ['mysql', "echo 'system id' | mysql", 'system'],
  ['sqlite3', "sqlite3 /x.db '.shell id'", '.shell'],
  ['sqlite3', "sqlite3 /x.db '.system id'", '.system'],
  ['sqlite3', "sqlite3 /x.db '.sh id'", '.sh'],
  ['sqlite3', "sqlite3 /x.db '.output |id'", '|'],
  ['sqlite3', "sqlite3 /x.db '.once |id'", '|'],
  ['sqlite3', "sqlite3 /x.db '.once -x'", '.once'],
  ['sqlite3', "sqlite3 /x.db '.import \"|id\" t'", '|'],
  ['sqlite3', "sqlite3 /x.db '.load /tmp/x.so'", '.load'],
  ['sqlite3', "sqlite3 /x.db '.read /tmp/x.sql'", '.read'],
  ['sqlite3', "sqlite3 -cmd '.shell id' /x.db 'select 1'", '.shell'],
  ['sqlite3', "sqlite3 /x.db \"select edit('x', 'id')\"", 'edit'],
  ['sqlite3', "sqlite3 /x.db \"select load_extension('/tmp/x')\"", 'load_extension'],
  ['sqlite3', "sqlite3 -init /tmp/x.sql /x.db 'select 1'", '-init'],
  ['sqlite3', "sqlite3 -Axf /x.db", '-A'],
  ['sqlite3', "echo '.shell id' | sqlite3 /x.db", '.shell'],
  ['dc', "dc -e '!id'", '!'],
  ['dc', "dc -e '[!id]x'", '!'],
  ['dc', 'dc /tmp/x.dc', 'file'],
  ['dc', 'dc -f /tmp/x.dc', '-f'],
  ['dc', "echo '!id' | dc", '!'],
  ['m4', 'm4 /tmp/x.m4', 'file'],
  ['m4', "echo 'syscmd(id)' | m4", 'macro'],
  ['m4', "echo 'X' | m4 -DX='esyscmd(id)'", 'macro'],
  ['gnuplot', "gnuplot -e 'system(\"id\")'", 'system'],
  ['gnuplot', "gnuplot -e '!id'", '!'],
  ['gnuplot', "gnuplot -e 'plot \"< id\"'", '<'],
  ['gnuplot', 'gnuplot /tmp/x.gp', 'file'],
  ['lftp', "lftp -c '!id'", '!'],
  ['lftp', "lftp -e 'ls | id' h", '|'],
  ['lftp', 'lftp -f /tmp/x h', '-f'],
  ['ftp', "echo '!id' | ftp h", '!'],
  ['ftp', 'ftp -N /tmp/netrc h', '-N'],
  ['ftp', "ftp -o '|id' http://h/x", '-o'],
];

test('a grant of a program with a command language refuses the shell escapes, pipes and script files in it', () => {
  for (const [program, cmd, named] of ESCAPES) {
    const r = verdict(grant(program), cmd);
    assert.equal(r.matched, false, `${cmd} was allowed`);
    assert.ok(r.why.includes(named), `${cmd}: '${r.why}' does not name ${named}`);
  }
});

test('every program deny rules know to have shell escapes has a command language for allows', () => {
  for (const p of ESCAPING) assert.ok(LANGUAGES.has(p), p);
});

test('an ssh remote command is judged the same way', () => {
  const r = verdict({ programs: { ssh: {}, psql: {} } }, "ssh db-1 psql -c \"'\\\\! id'\"");
  assert.equal(r.matched, false, r.why);
  // Not rebuilt by Warden, so psql must skip ~/.psqlrc itself (startup-files.ts).
  assert.equal(verdict({ programs: { ssh: {}, psql: {} } }, "ssh db-1 psql -X -c \"'select 1'\"").matched, true);
});

test('ordinary use of those programs stays allowed', () => {
  for (const [program, cmd] of [
    ['psql', "psql -c 'select 1'"],
    ['psql', 'psql -X -A -t -d app -U app -h db -c "select count(*) from t where a::text = \'x:y\'"'],
    ['psql', "psql -c '\\dt'"],
    ['psql', "psql -c '\\l+'"],
    ['psql', 'psql -v ON_ERROR_STOP=1 -c "select 1"'],
    ['psql', "psql -c 'select 1' | grep 1"],
    ['psql', "echo 'select 1;' | psql -d app"],
    ['psql', "printf '%s\\n' 'select 1;' | psql"],
    ['psql', 'psql -l'],
    ['mysql', "mysql -e 'select source, system_id from events'"],
    ['mysql', 'mysql -u app -h db -D app -e "show tables"'],
    ['mariadb', "mariadb -N -B -e 'select 1'"],
    ['sqlite3', "sqlite3 /srv/app.db 'select count(*) from t'"],
    ['sqlite3', "sqlite3 -header -csv /srv/app.db '.tables' 'select 1'"],
    ['sqlite3', "sqlite3 /srv/app.db '.schema t'"],
    ['sqlite3', "echo '.tables' | sqlite3 /srv/app.db"],
    ['dc', "dc -e '2 3 + p'"],
    ['dc', "dc -e '1 2 !<a p'"],
    ['m4', "echo 'Hello NAME' | m4 -DNAME=world"],
    ['gnuplot', "gnuplot -e 'print 1+2'"],
    ['lftp', "lftp -c 'open h; ls'"],
  ] as const) {
    const r = verdict(grant(program), cmd);
    assert.equal(r.matched, true, `${cmd}: ${r.why}`);
  }
});

test('options that run a program, and wrappers, were already refused by the catalogue', () => {
  for (const [program, cmd] of [
    ['tar', 'tar -xf /x.tar --to-command=id'], ['tar', 'tar -cf /x.tar --checkpoint=1 --checkpoint-action=exec=id /y'],
    ['tar', 'tar -I id -cf /x /y'], ['tar', 'tar cIf id /x /y'], ['tar', 'tar --use-compress-prog=id -cf /x /y'],
    ['tar', 'tar --rsh-command=/x -cf h:/x /y'], ['tar', 'tar --info-script=/x -cf /x /y'], ['tar', 'tar -F /x -cf /x /y'],
    ['sort', 'sort --compress-program=id /x'], ['rsync', 'rsync -e id /x h:/y'], ['rsync', 'rsync --rsh=id /x h:/y'],
    ['rsync', 'rsync --rsync-path=id /x h:/y'], ['rsync', 'rsync -avze id /x h:/y'], ['ssh', 'ssh -o ProxyCommand=id h'],
    ['ssh', 'ssh -o LocalCommand=id -o PermitLocalCommand=yes h'], ['ssh', 'ssh -F /x h'], ['scp', 'scp -S id /x h:/y'],
    ['sftp', 'sftp -S id h'], ['zip', 'zip -TT id /x.zip /y'], ['zip', 'zip -T --unzip-command=id /x.zip /y'],
    ['git', 'git -c core.pager=id log'], ['find', 'find / -fprint /etc/x'], ['find', 'find / -fls /etc/x'],
    ['awk', "awk 'BEGIN{system(\"id\")}'"], ['sed', "sed 'e id' /x"], ['env', 'env -S id'], ['gdb', "gdb -ex '!id'"],
    ['vim', "vim -c ':!id'"], ['vi', "vi +':!id'"], ['ex', "ex -c '!id'"], ['ed', 'ed /x'], ['less', 'less /x'], ['more', 'more /x'],
    ['timeout', 'timeout 5 id'], ['nice', 'nice id'], ['watch', "watch 'id'"], ['flock', 'flock /x id'], ['script', 'script -c id /dev/null'],
    ['unbuffer', 'unbuffer id'], ['stdbuf', 'stdbuf -oL id'],
  ] as const) {
    assert.equal(verdict({ programs: { [program]: {}, id: {} } }, cmd).matched, false, cmd);
  }
});
