/**
 * GNU getopt_long abbreviations of a modelled program's long options (option-models.ts
 * longOption). `--suf` is `--suffix`, which takes the next word as its value: `ln -s --suf -t
 * /srv/app/x` is `ln -s /srv/app/x` with the suffix `-t`, so it links `x` into the login folder
 * (the remote user's home); Warden read the `-t` as `--target-directory` and judged no such link.
 * An abbreviation is now read as the one option it stands for among the model's long options
 * (several that all take a value: it takes one), so the word after it is its value.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initShellParser } from '../../../tools/shared/shell/index.js';
import { scanWords } from '../../../tools/shared/shell/operands.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const P = { paths: ['/srv/app'] };
const BLOCK = { programs: Object.fromEntries(['ln', 'cp', 'mv', 'install', 'tar', 'rsync', 'grep', 'du', 'sort', 'jq', 'journalctl'].map((p) => [p, P])) };
const { refuse, allow } = shellVerdicts(BLOCK);

before(async () => {
  await initShellParser();
});

describe('an abbreviated long option that takes a value takes the next word', () => {
  test('ln: --suf (--suffix) swallows -t, so the one operand links into the login folder', () => {
    const relative = /'\.' is not an absolute path: it would resolve in the login folder/;
    refuse(['ln -s --suf -t /srv/app/x', 'ln -sf --su -t /srv/app/.bashrc', 'ln --suffix -t /srv/app/x'], relative);
  });

  test('its neighbours: a real target folder, spelled in full or abbreviated, stays allowed', () => {
    allow(['ln -s -t /srv/app/d /srv/app/x', 'ln -s --target-directory /srv/app/d /srv/app/x', 'ln -s --tar /srv/app/d /srv/app/x',
      'ln -s --t=/srv/app/d /srv/app/x', 'ln -s --suf .bak -t /srv/app/d /srv/app/x', 'ln -s --suffix=.bak /srv/app/x /srv/app/y']);
  });

  test('the word after an abbreviation is its value as getopt reads it (cp, mv, install)', () => {
    assert.deepEqual(scanWords('cp', ['--suf', '-t', '/srv/app/a', '/srv/app/b'])?.operands, ['/srv/app/a', '/srv/app/b']);
    assert.deepEqual(scanWords('mv', ['--targ', '/srv/app/d', '/srv/app/a'])?.options, [{ flag: '--target-directory', value: '/srv/app/d' }]);
    // A long option without a value that is a prefix of one with (install's --strip of --strip-program) is itself.
    assert.deepEqual(scanWords('install', ['--strip', '/srv/app/a', '/srv/app/b'])?.operands, ['/srv/app/a', '/srv/app/b']);
    assert.deepEqual(scanWords('jq', ['--slurp', '.', '/srv/app/a'])?.operands, ['.', '/srv/app/a']);
    assert.deepEqual(scanWords('journalctl', ['--user', '/srv/app/a'])?.operands, ['/srv/app/a']);
    // Several long options that take a value: any of them takes the next word.
    assert.deepEqual(scanWords('grep', ['--exclude-', 'x', 'pat', '/srv/app/a'])?.operands, ['pat', '/srv/app/a']);
    refuse(['cp --suf -t /srv/app/a /etc/x', 'mv --su -t /srv/app/a /etc/x'], /not an absolute path|outside \/srv\/app/);
    allow(['cp --suf .bak /srv/app/a /srv/app/b', 'mv --targ /srv/app/d /srv/app/a']);
  });

  test('tar and rsync: abbreviations are read whole (tar) or refused (rsync, whose popt takes none)', () => {
    refuse(['tar -x --suf -C -f /srv/app/a.tar', 'tar -x --dir /srv/app/d -f /srv/app/a.tar'], /not an absolute path|tar extraction into a folder/);
    refuse(['rsync -a --suf -t /srv/app/a /srv/app/b', 'rsync -a --temp /srv/app/t /srv/app/a /srv/app/b'], /rsync option '--(suf|temp)' is not one Warden models/);
    allow(['tar -t --file /srv/app/a.tar', 'tar -t --file=/srv/app/a.tar', 'rsync -a --suffix=.bak /srv/app/a /srv/app/b']);
  });

  test('date --resolution takes no value: the operand after it sets the clock', () => {
    const date = { programs: { date: {} } };
    refuse(['date --resolution 010100002030', 'date --reso 010100002030'], /sets the system clock/, date);
    allow(['date --resolution', 'date --resolution +%s', 'date --date 2020-01-01 +%s'], date);
  });
});
