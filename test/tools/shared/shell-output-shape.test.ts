/**
 * Red team of a read-only grant (grep, tail, cat, head under paths:): options that print part of a
 * line or re-render its blanks cut a secret's value from the name that output masking reads.
 * `grep -o '[^=]*$' /srv/app/.env` printed the bare values, `grep PASSWORD .env | tail -c 20` and
 * the old `tail +13c` a window starting inside the line, `cat -T app.ini` turned
 * `password<TAB>=<TAB>x` into `password^I=^Ix`, which reads as no assignment. Now each is refused
 * unless the grant lists the option in allow_flags (output-shape.ts); in every spelling, in a
 * pipeline and in ssh's remote command; what the grant always allowed still passes.
 */
import { before, test } from 'node:test';
import { initShellParser } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const P = { paths: ['/srv/app'] };
const BLOCK = { pipelines: true, programs: { grep: P, egrep: P, zgrep: P, rg: P, tail: P, head: P, cat: P, ssh: {} } };
const { refuse, allow } = shellVerdicts(BLOCK);

before(async () => {
  await initShellParser();
});

const WHY = /prints only|window of bytes|shows a tab as \^I|rewrites.*masking reads .*list .* in this grant's allow_flags/;

test('grep -o and its spellings are refused', () => {
  refuse(["grep -o '[^=]*$' /srv/app/.env", "grep -oP 'PASSWORD=\\K.*' /srv/app/.env", 'grep -io pass /srv/app/.env', 'grep --only-matching x /srv/app/.env',
    'grep --only x /srv/app/.env', 'grep -m1 -hoE x /srv/app/.env', 'egrep -o x /srv/app/.env', 'zgrep -o x /srv/app/log.gz',
    'cat /srv/app/.env | grep -o x', 'ssh h grep -o x /srv/app/.env', "rg -o x /srv/app", "rg -r '' DB_PASSWORD= /srv/app", 'rg --replace=x y /srv/app'], /grep|rg/);
  refuse(["grep -o '[^=]*$' /srv/app/.env"], WHY);
});

test('grep -T (a padded line number: `FILE: 2:<TAB>password = x`) is refused', () => {
  refuse(['grep -nT password /srv/app/app.ini', 'grep -T password /srv/app/app.ini', 'grep --initial-tab -n password /srv/app/app.ini', 'grep -HnT x /srv/app'],
    /grep -T .*pads the line number/);
  allow(['grep -nT password /srv/app/app.ini', 'grep --initial-tab -n x /srv/app/app.ini'], { programs: { grep: { ...P, allow_flags: ['-n', '-T'] } } });
});

test('tail byte windows are refused, also in the obsolete forms', () => {
  refuse(['tail -c 8 /srv/app/.env', 'tail -c8 /srv/app/.env', 'tail -c +13 /srv/app/.env', 'tail --bytes=8 /srv/app/.env', 'tail --by 8 /srv/app/.env',
    'tail -8c /srv/app/.env', 'tail +13c /srv/app/.env', 'tail -1b /srv/app/.env', 'tail +2cf /srv/app/.env', 'tail +13c', 'grep PASS /srv/app/.env | tail -c 20',
    'ssh h tail -c 5 /srv/app/.env'], /tail -c .*window of bytes/);
});

test('cat showing tabs as ^I is refused', () => {
  refuse(['cat -T /srv/app/app.ini', 'cat -A /srv/app/app.ini', 'cat -vt /srv/app/app.ini', 'cat -nT /srv/app/app.ini', 'cat --show-tabs /srv/app/app.ini',
    'cat --show-all /srv/app/app.ini', 'grep x /srv/app/a | cat -A'], /cat -[TAt] \(spelled .*shows a tab as \^I/);
});

test('what keeps lines whole still passes', () => {
  allow(['grep -n PASSWORD /srv/app/.env', 'grep -c x /srv/app/.env', 'grep -v x /srv/app/.env', 'grep -- -o /srv/app/.env', 'grep -e x /srv/app/.env',
    'tail -n 5 /srv/app/app.log', 'tail -5 /srv/app/app.log', 'tail -n +2 /srv/app/app.log', 'tail -5l /srv/app/app.log',
    'head -c 100 /srv/app/app.log', 'cat -n /srv/app/app.ini', 'cat -v /srv/app/app.ini', 'cat -E /srv/app/app.ini', 'cat --show-ends /srv/app/app.ini',
    'grep x /srv/app/a | tail -n 3']);
  // Packing or searching a tree is refused only because a bare secret may lie in it (shell/secret-files.ts): its options and paths pass.
  refuse(['rg -n x /srv/app'], /may lie at any depth/);
});

test('a grant that lists the option in allow_flags allows it', () => {
  allow(["grep -o '[^=]*$' /srv/app/.env", 'grep --only-matching -E x /srv/app/.env'], { programs: { grep: { ...P, allow_flags: ['-o', '-E'] } } });
  allow(['tail -c 8 /srv/app/.env', 'tail --bytes=8 /srv/app/.env'], { programs: { tail: { ...P, allow_flags: ['-c'] } } });
  // Without paths: the old `+13c` is no file argument to refuse, and only the byte rule sees it.
  refuse(['tail +13c', 'tail -1b'], /tail -c .*window of bytes/, { programs: { tail: {} } });
  allow(['tail +13c', 'tail -n 3'], { programs: { tail: { allow_flags: ['-c', '-n'] } } });
  allow(['cat -T /srv/app/app.ini', 'cat --show-tabs /srv/app/app.ini'], { programs: { cat: { ...P, allow_flags: ['-T'] } } });
  // Listing another flag is no opt-in: -o is then refused as before.
  refuse(['grep -oE x /srv/app/.env'], /-o is not in allow_flags|allow_flags/, { programs: { grep: { ...P, allow_flags: ['-E'] } } });
});

test('git grep -o is refused like grep -o (the subcommand\'s options, after git\'s own)', () => {
  const G = { programs: { git: { subcommands: ['grep'] } } };
  refuse(["git grep -o '[^=]*$'", 'git grep --only-matching x', 'git -C /srv/app grep -o x', 'git grep -ho x', 'git --no-pager grep -nio x', 'git grep --only x'],
    /git grep -o \(spelled .*prints only the matching part/, G);
  allow(['git grep -n x', 'git grep -- -o'], G);
  allow(['git grep -o x', 'git grep --only-matching x'], { programs: { git: { subcommands: ['grep'], allow_flags: ['-o', '--only-matching'] } } });
});

test('dd skip= (a byte window like tail -c, starting inside a line) is refused (rewriters.ts: unless the grant says rewrites: true)', () => {
  const D = { pipelines: true, programs: { dd: P, cat: P } };
  refuse(['dd if=/srv/app/.env bs=1 skip=12', 'dd if=/srv/app/.env iflag=skip_bytes skip=12', 'cat /srv/app/.env | dd bs=1 skip=12', 'dd if=/srv/app/.env bs=1 iseek=12',
    'dd if=/srv/app/.env skip=0x1'], /window of bytes/, D);
  allow(['dd if=/srv/app/.env bs=1 count=20', 'dd if=/srv/app/.env'], D);
});
