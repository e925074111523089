// Writes the bundle's V8 code cache (bin/code-cache.js) at build time, as the user who builds:
// one `warden serve` over stdio on a throwaway config (a PostgreSQL connection it never opens,
// one rule, a store in a temporary folder) answers `initialize` and `tools/list` and exits,
// and its exit writes the cache a serve writes. Why: the cache is written only by a user who can
// write beside the bundle, so an install kept root-owned (README: "Deploying so the agent does
// not hold the keys") and served by its own user never had one unless root ran a `serve` by
// hand, and every agent session's start then compiled the 4 MB bundle again (about 0.6 x the time
// with the cache). scripts/bundle-cli.mjs runs this after each build; a failure here is said on
// stderr and never fails the build (without a cache, `warden` compiles the bundle instead).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CONFIG = [
  'transcripts: { store: sqlite:warden.db }',
  'identity: { stdio: { subject: warm-up, groups: [warm-up] } }',
  'connections:',
  '  db: { type: postgres, url: env:WARDEN_WARM_UP_URL }',
  'policies: [policies/*.yaml]',
  '',
].join('\n');
const POLICY = 'rules:\n  - id: warm-up\n    effect: allow\n    who: { groups: [warm-up] }\n    tool: query_database\n    sql: { statements: [select], read: [public.t] }\n';

/** Which command wrote the cache file at `path` ('serve', 'other'), or null when there is none. */
export function cacheWriter(path) {
  try {
    const bytes = readFileSync(path);
    const length = bytes.readUInt32LE(0);
    return bytes.subarray(4, 4 + length).toString('utf8').split('\n')[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * Start `at`'s bin/warden.js as a stdio server, have it answer initialize and tools/list, close
 * its input and wait for it to exit (at most `timeoutMs`). Resolves with why it failed, or null
 * when the cache beside the bundle is now a serve's.
 */
export async function warmCodeCache(at, timeoutMs = 30_000) {
  if (process.env.WARDEN_CODE_CACHE === 'off') return 'WARDEN_CODE_CACHE=off';
  const dir = mkdtempSync(join(tmpdir(), 'warden-warm-up-'));
  try {
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'warden.yaml'), CONFIG);
    writeFileSync(join(dir, 'policies', 'warm-up.yaml'), POLICY);
    const why = await serveOnce(at, dir, timeoutMs);
    if (why) return why;
    return cacheWriter(join(at, 'dist', 'bundle', 'cli', 'main.cjs.v8cache')) === 'serve' ? null : 'the serve wrote no cache (cannot write beside the bundle?)';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function serveOnce(at, dir, timeoutMs) {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'error', WARDEN_WARM_UP_URL: 'postgres://warm-up@127.0.0.1:9/warm-up' };
    const child = spawn(process.execPath, [join(at, 'bin', 'warden.js'), 'serve', '--config', join(dir, 'warden.yaml')], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let buffered = '';
    let listed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(`no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    const send = (msg) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);
    child.stderr.on('data', (d) => (stderr += d).length > 4096 && (stderr = stderr.slice(-4096)));
    child.stdin.on('error', () => undefined); // it exited early: said by the exit below
    child.stdout.on('data', (d) => {
      buffered += d;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (msg.id === 1) {
          send({ method: 'notifications/initialized' });
          send({ id: 2, method: 'tools/list' });
        } else if (msg.id === 2) {
          listed = Array.isArray(msg.result?.tools) && msg.result.tools.length > 0;
          child.stdin.end();
        }
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve(`cannot start: ${e.message}`);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!listed) resolve(`the serve exited (${code}) before listing its tools: ${stderr.trim().split('\n').pop() ?? ''}`);
      else resolve(code === 0 ? null : `the serve exited ${code}`);
    });
    send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'warden-warm-up', version: '1' } } });
  });
}
