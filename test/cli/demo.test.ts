/**
 * `warden demo` is the README's first command: it must tell the whole story on an embedded
 * database, with no external server, and exit 0.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARDEN_BIN } from '../support/repo.js';
import { rawRequest } from '../support/http-agent.js';

/** `warden ARGS` as a child process, asynchronous (the tests below run side by side): spawnSync's status, stdout and stderr. */
function warden(args: string[], timeout = 0): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WARDEN_BIN, ...args], { encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH ?? '' } }, (e, stdout, stderr) => {
      resolve({ status: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr });
    });
  });
}

/** Bound of a demo's whole run (the embedded database's start dominates; several start side by side on a loaded machine). */
const DEMO_START_BOUND_MS = 300_000;

// Four independent runs (each its own temp folder or the built-in temporary one): side by side.
describe('warden demo', { concurrency: 4 }, () => {
  test('warden demo runs the scripted agent session end to end', async () => {
    const r = await warden(['demo'], DEMO_START_BOUND_MS);
    assert.equal(r.status, 0, r.stderr + r.stdout.slice(-2000));
    const out = r.stdout;
    assert.match(out, /agent sees tools: .*query_database/);
    assert.match(out, /a\*\*\*@example\.com\t\[REDACTED\]/, 'emails partially masked, SSNs redacted');
    assert.ok(!out.includes('alice@example.com') && !out.includes('123-45-6789'), 'no unmasked email or SSN');
    assert.match(out, /WARDEN_DENIED: Schema changes go through migrations\./);
    assert.match(out, /COMMIT; DROP TABLE users"\}\nwarden< WARDEN_PARSE/);
    assert.match(out, /WARDEN_APPROVAL_PENDING/);
    assert.match(out, /warden< UPDATE 1/);
    assert.match(out, /hash chain: intact/);
  });

  test('warden demo --json prints the same run as one JSON document', async () => {
    const r = await warden(['demo', '--json'], DEMO_START_BOUND_MS);
    assert.equal(r.status, 0, r.stderr + r.stdout.slice(-2000));
    const doc = JSON.parse(r.stdout) as { ok: boolean; tools: string[]; steps: { tool: string; is_error: boolean; text: string }[]; approval: { id: string } | null; transcript: { chain_intact: boolean; records: number } };
    assert.equal(doc.ok, true);
    assert.ok(doc.tools.includes('query_database'));
    assert.ok(doc.steps.some((s) => s.is_error && /^WARDEN_PARSE/.test(s.text)), 'the injection is refused');
    assert.ok(doc.steps.some((s) => !s.is_error && /^UPDATE 1/.test(s.text)), 'the approved write ran once');
    assert.match(doc.approval?.id ?? '', /\S/);
    assert.equal(doc.transcript.chain_intact, true);
    assert.ok(!r.stdout.includes('alice@example.com') && !r.stdout.includes('123-45-6789'), 'no unmasked email or SSN');
  });

  test('warden demo --config NEW_FILE writes its config there and keeps it; an existing file is never overwritten', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-demo-config-'));
    try {
      const file = join(dir, 'demo.yaml');
      const r = await warden(['demo', '--json', '--config', file], DEMO_START_BOUND_MS);
      assert.equal(r.status, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { ok: boolean }).ok, true);
      assert.ok(existsSync(file) && existsSync(join(dir, 'policies', 'demo.yaml')) && existsSync(join(dir, 'warden.db')), 'config, policy and transcript kept');
      // Three independent commands on the kept files (a read, a refused demo, the schema): side by side.
      const [list, again, schema] = await Promise.all([
        warden(['transcripts', 'list', '--json', '--config', file]),
        warden(['demo', '--config', file]),
        warden(['policy', 'schema', 'policy', '--config', file, '--json']),
      ]);
      assert.equal(list.status, 0, list.stderr);
      assert.equal((JSON.parse(list.stdout) as unknown[]).length, 1, 'the kept transcript holds the demo session');
      assert.equal(again.status, 2);
      assert.match(again.stderr, /exists; the demo writes only new files/);
      assert.equal(schema.status, 0, schema.stderr);
      assert.equal(typeof (JSON.parse(schema.stdout) as { $schema: string }).$schema, 'string');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('warden demo --serve: the reviewer UI refuses another port\'s Origin and cookie POSTs without Origin', { timeout: DEMO_START_BOUND_MS }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-demo-serve-'));
    const child = spawn(process.execPath, [WARDEN_BIN, 'demo', '--serve', '--config', join(dir, 'demo.yaml')], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      // Ready when it prints the login link (or gone): no deadline of its own, the test's timeout
      // bounds it. Starting the embedded database beside three other demos on a loaded machine
      // took over the 60 s this once allowed; how fast the demo starts is not what is tested here.
      await new Promise<void>((resolve) => {
        const check = () => {
          if (!/One-time login link[^\n]*: (\S+)/.test(out) && child.exitCode === null) return;
          child.stdout.off('data', check);
          child.stderr.off('data', check);
          child.off('exit', check);
          resolve();
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        child.on('exit', check);
        check();
      });
      const login = /One-time login link[^\n]*: (\S+)/.exec(out)?.[1];
      assert.ok(login, out);
      const base = new URL(login).origin;
      const port = new URL(login).port;
      const cookie = ((await fetch(login, { redirect: 'manual' })).headers.get('set-cookie') ?? '').split(';')[0]!;
      const ui = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
        rawRequest(base, { method, path, headers: { cookie, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers }, ...(body ? { body } : {}) });
      const home = await ui('GET', '/ui/approvals');
      assert.equal(home.status, 200);
      const csrf = /name="csrf" value="([^"]+)"/.exec(home.body)?.[1];
      assert.ok(csrf);
      assert.equal((await ui('GET', '/ui/approvals', { origin: 'http://127.0.0.1:3000' })).status, 403, 'a page on another port reading the queue');
      assert.equal((await ui('POST', '/ui/logout', {}, `csrf=${encodeURIComponent(csrf)}`)).status, 403, 'no Origin');
      assert.equal((await ui('POST', '/ui/logout', { origin: 'http://localhost:3000' }, `csrf=${encodeURIComponent(csrf)}`)).status, 403, 'another port');
      assert.equal((await ui('POST', '/ui/logout', { origin: `http://127.0.0.1:${port}` }, `csrf=${encodeURIComponent(csrf)}`)).status, 303, 'this server');
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
