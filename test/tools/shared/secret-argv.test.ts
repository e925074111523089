/**
 * Secret values among argv words and NUL-separated records (secret-argv.ts): a flag and its value
 * split between a container's `command` and `args`, `/proc/PID/environ` and `/proc/PID/cmdline`
 * read through kubectl_exec (NUL-separated: the line-oriented masker read `PATH=/bin` glued to
 * `DB_PASSWORD=...` as one value), and shell scripts continued over lines (`\` newline).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskNulRecords, maskSecretArgv } from '../../../tools/shared/secret-argv.js';
import { maskSecretStreams, maskSecretText } from '../../../tools/shared/secret-text.js';
import { maskCredentialFlags } from '../../../tools/shared/credential-flags.js';
import { cleanObject } from '../../../tools/kubernetes/clean.js';

const container = (c: Record<string, unknown>) => (cleanObject('pods', { kind: 'Pod', spec: { containers: [{ name: 'a', ...c }] } }, new Set()) as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0]!;

test('argv: named flags (--opt value, --opt=value), program flags, and harmless values kept; each mask counted', () => {
  const count = { n: 0 };
  assert.deepEqual(
    maskSecretArgv(['app', '--password', 'p1', '--db-password=p2', '--requirepass', 'p3', '-p', '8080', '--port', '5432', '--max-tokens', '4096', 'DB_PASSWORD=p4'], count),
    ['app', '--password', '***', '--db-password=***', '--requirepass', '***', '-p', '8080', '--port', '5432', '--max-tokens', '4096', 'DB_PASSWORD=***'],
  );
  assert.equal(count.n, 4);
  // -p is mysql's password only attached; a lone -p prompts and the next word is the database.
  assert.deepEqual(maskSecretArgv(['mysql', '-uroot', '-pS3cr3t', 'shop']), ['mysql', '-uroot', '-p***', 'shop']);
  assert.deepEqual(maskSecretArgv(['mysql', '-uroot', '-p', 'shop']), ['mysql', '-uroot', '-p', 'shop']);
});

test('kubectl_get: a secret flag at the end of command takes its value from args', () => {
  const c = container({ command: ['app', '--password'], args: ['hunter2-split', '--port', '8080'] });
  assert.deepEqual(c.command, ['app', '--password']);
  assert.deepEqual(c.args, ['***', '--port', '8080']);
  const r = container({ command: ['redis-server', '--requirepass'], args: ['redis-split', '-p', '6379'] });
  assert.deepEqual(r.args, ['***', '-p', '6379']);
});

test('NUL-separated records: each word read alone, shown one per line', () => {
  const count = { n: 0 };
  assert.equal(maskNulRecords('PATH=/bin\0DB_PASSWORD=env-pw\0HOME=/root\0', maskSecretText, count), 'PATH=/bin\nDB_PASSWORD=***\nHOME=/root\n');
  assert.equal(maskNulRecords('mysql\0-uroot\0-pcmd-pw\0shop\0', maskSecretText, count), 'mysql\n-uroot\n-p***\nshop\n');
  assert.equal(maskNulRecords('redis-server\0--requirepass\0redis-pw\0--port\x006379\0', maskSecretText, count), 'redis-server\n--requirepass\n***\n--port\n6379\n');
  assert.equal(count.n, 3);
  // Escape sequences inside a word are removed before it is read, as in any stream.
  assert.equal(maskNulRecords('DB_\x1b[1mPASSWORD\x1b[m=x\0', maskSecretText), 'DB_PASSWORD=***\n');
  // NULs as padding, not separators, are dropped and the text read whole: UTF-16 text, a NUL inside a name.
  const utf16 = Buffer.from('LOG=1\nDB_PASSWORD=u16-pw\n', 'utf16le').toString('latin1');
  assert.equal(maskNulRecords(utf16, maskSecretText), 'LOG=1\nDB_PASSWORD=u16-pw\n');
  assert.equal(maskSecretStreams({ stdout: utf16 }).streams.stdout, 'LOG=1\nDB_PASSWORD=***\n');
  assert.equal(maskSecretStreams({ stdout: 'LOG=1\0DB_PASS\0WORD=junk-nul\0' }).streams.stdout, 'LOG=1\nDB_PASSWORD=***\n');
  const s = maskSecretStreams({ stdout: 'A=1\0API_TOKEN=tok-nul\0' });
  assert.equal(s.streams.stdout, 'A=1\nAPI_TOKEN=***\n');
  assert.equal(s.masked, 1);
});

test('shell line continuations: a flag\'s value and a program\'s flags on the next line', () => {
  assert.equal(maskSecretText('app \\\n  --password \\\n  cont-pw \\\n  --port 8080'), 'app \\\n  --password \\\n  *** \\\n  --port 8080');
  assert.equal(maskCredentialFlags('mysql -uroot \\\n  -pcont-pw2 shop'), 'mysql -uroot \\\n  -p*** shop');
  assert.equal(maskCredentialFlags('mysql -uroot\n-pnot-mysql'), 'mysql -uroot\n-pnot-mysql');
});
