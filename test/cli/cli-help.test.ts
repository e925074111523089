/**
 * The `warden` command line as a shell user meets it: per-command `--help`/`-h` (usage on stdout,
 * exit 0; nothing else runs), usage and argument errors before any config is read or store opened
 * (so they work anywhere and leave no files behind), and unknown options as usage errors (exit 2,
 * usage on stderr). The real bin, as a child process, in empty scratch folders.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARDEN_BIN } from '../support/repo.js';

const tmp = mkdtempSync(join(tmpdir(), 'warden-cli-help-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** Run the bin in a fresh empty folder (no warden.yaml); report what it left there. */
function warden(args: string[]) {
  const cwd = join(tmp, `run-${n++}`);
  mkdirSync(cwd);
  const r = spawnSync(process.execPath, [WARDEN_BIN, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr, files: readdirSync(cwd) };
}

const HELP_CASES: [string[], RegExp][] = [
  [['serve'], /warden serve \[--config warden\.yaml\] \[--http HOST:PORT\]/],
  [['demo'], /warden demo \[--serve\] \[--config NEW_FILE\] \[--json\]/],
  [['policy'], /warden policy check[\s\S]*warden policy schema/],
  [['transcripts'], /warden transcripts list[\s\S]*warden transcripts purge/],
  [['approvals'], /warden approvals list[\s\S]*warden approvals approve\|deny/],
];

for (const [cmd, usage] of HELP_CASES) {
  for (const flag of ['--help', '-h']) {
    test(`warden ${cmd.join(' ')} ${flag}: its usage on stdout, exit 0, nothing created`, () => {
      const r = warden([...cmd, flag]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, usage);
      assert.doesNotMatch(r.out + r.err, /unknown option|error/i);
      assert.equal(r.err, '');
      assert.deepEqual(r.files, []);
    });
  }
}

test('a subcommand --help prints that subcommand usage (and runs nothing)', () => {
  const check = warden(['policy', 'check', '--help']);
  assert.equal(check.code, 0, check.err);
  assert.match(check.out, /warden policy check +\[--config F\] \[--json\] \[--strict\]/);
  assert.doesNotMatch(check.out, /policy explain/, 'only the check usage');
  const replay = warden(['transcripts', 'replay', 'SOME-ID', '--json', '-h']);
  assert.equal(replay.code, 0, replay.err);
  assert.match(replay.out, /warden transcripts replay SESSION_ID \[--follow \| --json\]/);
  assert.doesNotMatch(replay.out, /transcripts purge/);
  assert.deepEqual(replay.files, []);
  const approve = warden(['approvals', 'approve', 'A1', '--as', 'bob', '--help']);
  assert.equal(approve.code, 0, approve.err);
  assert.match(approve.out, /warden approvals approve\|deny ID/);
  assert.doesNotMatch(approve.out, /approvals list/);
});

test('warden --help and warden help still print the summary; bare warden is a usage error', () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = warden(args);
    assert.equal(r.code, 0);
    assert.match(r.out, /warden transcripts list\|show\|replay/);
    assert.match(r.out, /--help/, 'the summary mentions per-command help');
  }
  assert.equal(warden([]).code, 2);
});

test('an unknown option is still a usage error: exit 2, the usage on stderr, nothing on stdout', () => {
  for (const [args, usage] of [
    [['serve', '--bogus'], /warden serve \[--config/],
    [['demo', '--bogus'], /warden demo \[--serve\]/],
    [['policy', 'check', '--bogus'], /warden policy check/],
    [['approvals', 'list', '--bogus'], /warden approvals list/],
    [['transcripts', 'list', '--bogus'], /warden transcripts list/],
  ] as [string[], RegExp][]) {
    const r = warden(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /unknown option --bogus/);
    assert.match(r.err, usage, `${args.join(' ')} prints its usage`);
    assert.equal(r.out, '');
    assert.deepEqual(r.files, [], `${args.join(' ')} creates nothing`);
  }
});

test('transcripts: usage and argument errors come before the config is read or the store opened', () => {
  for (const args of [
    ['transcripts'],
    ['transcripts', 'bogus'],
    ['transcripts', '--json'],
    ['transcripts', 'list', '--limit', 'x'],
    ['transcripts', 'show'],
    ['transcripts', 'replay', 'S1', '--follow', '--json'],
    ['transcripts', 'purge'],
    ['transcripts', 'export', '--since', 'yesterday'],
    ['transcripts', 'verify', '--from', 'zero'],
    ['transcripts', 'head', 'extra'],
  ]) {
    const r = warden(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /warden transcripts list/, `${args.join(' ')} prints the usage`);
    assert.doesNotMatch(r.err, /configuration error|ENOENT/, `${args.join(' ')} reads no config`);
    assert.deepEqual(r.files, [], `${args.join(' ')} creates nothing`);
  }
});

test('approvals and policy: usage and argument errors come before the config is read', () => {
  for (const args of [
    ['approvals'],
    ['approvals', 'bogus'],
    ['approvals', 'list', '--state', 'bogus'],
    ['approvals', 'list', '--limit', '0'],
    ['approvals', 'approve', 'A1'],
    ['approvals', 'deny', 'A1', '--as', ' '],
    ['policy'],
    ['policy', 'bogus'],
    ['policy', 'check', 'extra'],
    ['policy', 'explain', '--as', 'a', '--tool', 't', '--args', 'not json'],
    ['policy', 'schema', 'bogus'],
  ]) {
    const r = warden(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, new RegExp(`warden ${args[0]} `), `${args.join(' ')} prints the usage`);
    assert.doesNotMatch(r.err, /configuration error|ENOENT/, `${args.join(' ')} reads no config`);
    assert.deepEqual(r.files, [], `${args.join(' ')} creates nothing`);
  }
});
