/**
 * `warden transcripts ... | head -c 300`: the reader closes the pipe early. Like a Unix tool the
 * CLI stops writing and exits quietly with 141 (128 + SIGPIPE, what a shell reports for a tool
 * SIGPIPE ended), never an unhandled EPIPE stack trace. The real bin, its stdout a pipe this test
 * closes after the first bytes; each output is over 1 MB (many pipe buffers), so it is cut mid-write whatever the timing.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { WARDEN_BIN } from '../support/repo.js';
import { cliStoreDir } from '../support/cli-store-dir.js';

const scratch = cliStoreDir('warden-cli-epipe-');
const dir = scratch.dir;

before(async () => {
  const store = scratch.open();
  const at = '2026-11-28T09:00:00.000Z';
  const principal = { subject: `agent-${'x'.repeat(4000)}`, groups: ['agents'], authMethod: 'stdio' as const };
  for (let i = 0; i < 600; i++) {
    await store.openSession({ id: `s${i}`, principal, client: { name: 'claude-code', version: '2.0.1' }, transport: 'stdio', startedAt: at });
  }
  const sql = `SELECT ${'x, '.repeat(1000)}1 FROM t`;
  for (let i = 0; i < 300; i++) {
    await store.recordIntent({ id: `c${i}`, sessionId: 's0', tool: 'query_database', connection: 'shop', args: { sql }, factsSummary: 'SELECT t', facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
  }
  await store.close();
});

/** Run the bin, read `keep` bytes of its stdout, then close the pipe; resolve on exit. */
function cutShort(args: string[], keep = 300): Promise<{ code: number | null; signal: string | null; got: number; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WARDEN_BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    let got = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= keep) child.stdout.destroy();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not exit after its reader left`));
    }, 30_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, got, err });
    });
  });
}

for (const args of [
  ['transcripts', 'replay', 's0', '--json'],
  ['transcripts', 'replay', 's0'],
  ['transcripts', 'list', '--limit', '500', '--json'],
  ['transcripts', 'export'],
]) {
  test(`warden ${args.join(' ')} | head -c 300: quiet exit 141, no stack trace`, async () => {
    const r = await cutShort(args);
    assert.ok(r.got >= 300, 'the reader got its bytes');
    assert.equal(r.err, '', 'nothing on stderr');
    assert.equal(r.code, 141);
  });
}
