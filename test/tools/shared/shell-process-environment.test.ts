/**
 * Red team of a read-only grant (`ls, cat, grep, head, tail, wc, find, ps, df` under
 * `paths: [/srv/app]`). Two lines got through: `ps e` (BSD e modifier, in any cluster: `ps
 * auxeww`) prints the environment of every listed process, where an application keeps
 * `DATABASE_URL=postgres://app:PASSWORD@db/app`, which name-based masking does not know; and
 * `find /srv/app -newer NAME` stats a bare NAME in the login folder (its existence and times).
 * Now `ps e` is refused unless the grant says `environment: true` (as jq's `env`), read as ps
 * reads its words (a value is not a cluster: `ps -u celery`, `ps -C e`); and find's reference
 * files (`-newer`, `-anewer`, `-cnewer`, `-samefile`, `-newerXY` but `-newerXt`) are files of
 * the grant. Kubernetes' `sh -c` and ssh's remote command share the same condition.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, shellCondition } from '../../../tools/shared/shell/index.js';
import { psEnvironmentWord } from '../../../tools/shared/shell/ps-environment.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const P = { paths: ['/srv/app'] };
const BLOCK = { pipelines: true, programs: { ls: P, cat: P, grep: P, head: P, tail: P, wc: P, find: P, ps: P, df: P, ssh: {} } };
const { refuse, allow } = shellVerdicts(BLOCK);

before(async () => {
  await initShellParser();
});

const ENV = /ps '.*' \(the BSD e modifier, or the environ column\) prints every listed process's environment .*this grant does not say environment: true/;

test('ps with the BSD e modifier is refused, in every cluster and position', () => {
  refuse(['ps e', 'ps eww', 'ps auxeww', 'ps aux e', 'ps -ef e', 'ps -o pid,args e', 'ps -u celery e', 'ps -C nginx xe', 'ps --sort=-rss aue',
    'ps --user celery e', 'ps ax --cols 300 e', 'ps p 1 e', 'ps ex', 'ps Se', 'ps -e e', 'ssh h ps eww', 'ps aux | ps e', 'ps -p 1 -o pid,environ', 'ps -oenviron', 'ps axo environ,pid',
    'ps --format=pid,environ', 'ps --format environ'], ENV);
  // No paths: either: the grant reads as one to list processes.
  refuse(['ps auxe'], ENV, { programs: { ps: {} } });
});

test('values are not clusters: ps lines without the modifier still pass', () => {
  allow(['ps', 'ps aux', 'ps -ef', 'ps -e', 'ps -eo pid,user,args', 'ps -u celery', 'ps -ue', 'ps -C e', 'ps -fC e', 'ps o pid,etime',
    'ps U celery', 'ps --user celery', 'ps --sort=-rss aux', 'ps axo pid,args', 'ps 123', 'ps -o pid,environment_x', 'ps -C environ',
    'ps aux | grep celery']);
  assert.equal(psEnvironmentWord(['-O', 'e']), null); // -O takes a format
  assert.equal(psEnvironmentWord(['-o']), null);
  assert.equal(psEnvironmentWord(['--unknown', 'e']), 'e'); // an unknown long option takes no value: generous
});

test('a ps grant that says environment: true allows it; other programs and denies may not say it', () => {
  allow(['ps auxeww', 'ps e'], { programs: { ps: { ...P, environment: true } } });
  assert.throws(() => shellCondition.compile({ programs: { ls: { environment: true } } }, { id: 'x', effect: 'allow' }), /or ps grant/);
  assert.throws(() => shellCondition.compile({ programs: { ps: { environment: true } } }, { id: 'x', effect: 'deny' }), /not a deny/);
});

test("find's reference files are files of the grant: a bare name (the login folder's) or one outside is refused", () => {
  refuse(['find /srv/app -newer foo', 'find /srv/app -anewer foo', 'find /srv/app -cnewer foo', 'find /srv/app -samefile foo',
    'find /srv/app -newerma foo', 'find /srv/app -newerBc foo', 'find /srv/app -newer -'], /find file argument '.*' is not an absolute path/);
  refuse(['find /srv/app -newer /etc/shadow', 'find /srv/app -samefile /srv/app/../../etc/x'], /find path '\/etc\/(shadow|x)' is outside \/srv\/app/);
  allow(['find /srv/app -newer /srv/app/stamp', 'find /srv/app -newermt 2024-01-01', "find /srv/app -newerat '1 hour ago'",
    'find /srv/app -name newer -samefile /srv/app/a', 'find /srv/app -name -newer']);
});

test('/proc/PID/environ under a grant whose paths: reach /proc is refused unless it says environment: true', () => {
  const PROC = { paths: ['/proc'] };
  const block = { pipelines: true, programs: { cat: PROC, head: PROC, grep: PROC, xargs: {} } };
  const WHY = /a process's environment \(its secrets\).*environment: true/;
  refuse(['cat /proc/1/environ', 'cat /proc/self/environ', 'head -c 4096 /proc/self/task/7/environ', 'cat /proc/1/root/proc/1/environ', 'cat /proc/./1/../1/environ', 'grep -a PASS /proc/42/environ'], WHY, block);
  // What /proc is granted for still reads.
  allow(['cat /proc/loadavg', 'head /proc/meminfo', 'cat /proc/1/status', 'grep -c processor /proc/cpuinfo'], block);
  // environment: true on a grant with paths: allows it; without paths: the grant already reads any file, and says nothing.
  allow(['cat /proc/1/environ'], { programs: { cat: { ...PROC, environment: true } } });
  assert.throws(() => shellCondition.compile({ programs: { cat: { environment: true } } }, { id: 'x', effect: 'allow' }), /a grant with paths:/);
});
