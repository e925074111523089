/**
 * The OS-user boundary between an agent and Warden (server/agent-boundary.ts): `serve` over stdio
 * reads its parent's user from /proc and says, with one WARDEN_AGENT_HOLDS_KEYS warning naming
 * paths only, what that user can read of Warden's; `identity.stdio.agent_user: refuse` makes it
 * exit instead. Real `warden serve` children; the different-user case runs the parent as `nobody`
 * where the tests run as root, and the decision function is tested with both uids everywhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentReach, checkAgentBoundary, codePaths, guardedPaths } from '../../src/server/agent-boundary.js';
import { canReach, processUser } from '../../src/identity/os-user.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { families } from '../../tools/index.js';
import { connectWarden, writeWardenDir } from '../support/warden-process.js';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';

const SECRET = 'pg-url-value-s3cr3t';
const linux = process.platform === 'linux';
const root = process.getuid?.() === 0;

/** A config with a `file:` secret beside it, and the agent_user setting when given. */
function wardenDir(agentUser?: 'warn' | 'refuse') {
  const stdio = agentUser ? `identity:\n  stdio: { subject: agent, agent_user: ${agentUser} }\n` : '';
  const dir = writeWardenDir(`transcripts: { store: sqlite:warden.db }\n${stdio}connections:\n  db: { type: postgres, url: file:db-url }\npolicies: [policies/*.yaml]\n`, { 'p.yaml': 'rules: []\n' });
  writeFileSync(join(dir.dir, 'db-url'), SECRET + '\n', { mode: 0o600 });
  return dir;
}

/** Run `warden serve` until it says it serves (then close stdin) or exits; its exit code and stderr. */
function serveOnce(configPath: string): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WARDEN_BIN, 'serve', '--config', configPath], { env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'info' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('warden serving MCP over stdio')) child.stdin.end();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, err }));
  });
}

test('same user (the agent client started Warden as itself): one coded warning naming the paths, never a secret', { skip: !linux }, async () => {
  const dir = wardenDir();
  const w = await connectWarden(dir.configPath);
  try {
    assert.ok((await w.client.listTools()).tools.length > 0, 'it still serves (warn is the default)');
    const lines = w.stderr().split('\n').filter((l) => l.includes('WARDEN_AGENT_HOLDS_KEYS'));
    assert.equal(lines.length, 1, w.stderr());
    const line = JSON.parse(lines[0]!) as { level: string; msg: string; code: string; same_user: boolean; paths: string[] };
    assert.equal(line.level, 'warn');
    assert.equal(line.code, 'WARDEN_AGENT_HOLDS_KEYS');
    assert.equal(line.same_user, true);
    assert.match(line.msg, /is the user Warden runs as/);
    assert.match(line.msg, /environment \(the env: secrets\)/);
    for (const p of [dir.configPath, join(dir.dir, 'db-url'), dir.dbPath, join(dir.dir, 'masking.key')]) assert.ok(line.paths.includes(p), `${p} is named: ${lines[0]}`);
    assert.ok(!w.stderr().includes(SECRET), 'the secret file is never read into the log');
  } finally {
    await w.close();
    dir.cleanup();
  }
});

test('same user with identity.stdio.agent_user: refuse: Warden exits non-zero with the code and serves nothing', { skip: !linux }, async () => {
  const dir = wardenDir('refuse');
  try {
    const r = await serveOnce(dir.configPath);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /^warden: WARDEN_AGENT_HOLDS_KEYS: .*Refusing to start \(identity\.stdio\.agent_user: refuse\)$/m);
    assert.doesNotMatch(r.err, /warden serving MCP/);
    assert.ok(!r.err.includes(SECRET));
  } finally {
    dir.cleanup();
  }
});

/**
 * Run `warden serve` (as root) under a parent that becomes `nobody` before Warden starts: Warden
 * waits on fd 3 until the parent has dropped to uid 65534, so it reads the parent as nobody.
 */
function serveUnderNobody(configPath: string): Promise<{ code: number | null; err: string }> {
  const helper = `
import { spawn } from 'node:child_process';
const [bin, config] = process.argv.slice(1);
const child = spawn('/bin/sh', ['-c', 'read _ <&3; exec 3<&-; exec "$0" "$@"', process.execPath, bin, 'serve', '--config', config],
  { stdio: ['pipe', 'ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, WARDEN_LOG_LEVEL: 'info' } });
let err = '';
child.stderr.on('data', (d) => { err += d; if (err.includes('warden serving MCP over stdio')) child.stdin.end(); });
child.on('close', (code) => process.stdout.write(JSON.stringify({ code, err })));
process.setgroups([]); process.setgid(65534); process.setuid(65534);
child.stdio[3].end('go\\n');
`;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', helper, WARDEN_BIN, configPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', () => {
      try {
        resolve(JSON.parse(out) as { code: number | null; err: string });
      } catch {
        reject(new Error(`helper said: ${out}`));
      }
    });
  });
}

test('another user who can read nothing of Warden\'s: no warning, and refuse serves', { skip: !linux || !root }, async () => {
  const dir = wardenDir('refuse'); // mkdtemp: a 0700 folder of root's, which nobody cannot enter
  try {
    const r = await serveUnderNobody(dir.configPath);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warden serving MCP over stdio/);
    assert.doesNotMatch(r.err, /WARDEN_AGENT_HOLDS_KEYS/);
  } finally {
    dir.cleanup();
  }
});

test('another user whom the mode bits let read the config: the warning names the config only', { skip: !linux || !root }, async () => {
  const dir = wardenDir();
  chmodSync(dir.dir, 0o755);
  chmodSync(dir.configPath, 0o644);
  try {
    const r = await serveUnderNobody(dir.configPath);
    assert.equal(r.code, 0, r.err);
    const line = JSON.parse(r.err.split('\n').find((l) => l.includes('WARDEN_AGENT_HOLDS_KEYS'))!) as { msg: string; agent_uid: number; same_user: boolean; paths: string[] };
    assert.equal(line.agent_uid, 65534);
    assert.equal(line.same_user, false);
    assert.deepEqual(line.paths, [dir.configPath], 'the 0600 secret, store and key are not named');
    assert.match(line.msg, /is not Warden's \(uid 0\) but the mode bits let it reach/);
  } finally {
    dir.cleanup();
  }
});

test('another user who can write Warden\'s own code (here its package.json): the warning names it as writable', { skip: !linux || !root }, async () => {
  const dir = wardenDir();
  const pkg = join(REPO_ROOT, 'package.json');
  const mode = statSync(pkg).mode & 0o7777;
  chmodSync(pkg, 0o666);
  try {
    const r = await serveUnderNobody(dir.configPath);
    assert.equal(r.code, 0, r.err);
    const line = JSON.parse(r.err.split('\n').find((l) => l.includes('WARDEN_AGENT_HOLDS_KEYS'))!) as { msg: string; paths: string[] };
    assert.deepEqual(line.paths, [pkg], 'the install is found from the running code (the bundle, three folders down)');
    assert.match(line.msg, /it can reach Warden's code \/.*\/package\.json \(writable\)/);
  } finally {
    chmodSync(pkg, mode);
    dir.cleanup();
  }
});

test('Warden\'s code: the install folder, the folders of what runs and the files it runs, written by another user only as the mode bits allow', () => {
  assert.ok(codePaths().some((p) => p.path === join(REPO_ROOT, 'bin', 'warden.js') && p.access === 'write'), 'the default root is this install');
  const base = mkdtempSync(join(tmpdir(), 'warden-code-'));
  try {
    chmodSync(base, 0o755);
    for (const d of ['bin', 'dist/bundle/cli', 'dist/src', 'node_modules']) mkdirSync(join(base, d), { recursive: true, mode: 0o755 });
    for (const f of ['bin/warden.js', 'dist/bundle/cli/main.cjs', 'dist/bundle/cli/main.cjs.v8cache']) writeFileSync(join(base, f), 'x', { mode: 0o644 });
    const other = { uid: 4242, gids: [4242] };
    const me = process.geteuid?.() ?? 0;
    assert.deepEqual(agentReach(other, me, codePaths(base)).reachable, [], 'root-owned, 0755/0644: nothing');
    chmodSync(join(base, 'dist/bundle/cli/main.cjs.v8cache'), 0o666);
    chmodSync(join(base, 'node_modules'), 0o777);
    assert.deepEqual(agentReach(other, me, codePaths(base)).reachable.map((p) => [p.path.slice(base.length), p.access]), [
      ['/node_modules', 'write-folder'],
      ['/dist/bundle/cli/main.cjs.v8cache', 'write'],
    ]);
    assert.equal(agentReach(other, me, codePaths(base)).reachable.length, 2, 'absent files (package.json, code-cache.js) are reached by nobody');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('the decision with both uids: the same user reaches everything, another what the mode bits grant', () => {
  const base = mkdtempSync(join(tmpdir(), 'warden-reach-'));
  try {
    chmodSync(base, 0o755);
    const open = join(base, 'open');
    const shut = join(base, 'shut');
    const inner = join(base, 'inner');
    mkdirSync(inner, { mode: 0o700 });
    chmodSync(inner, 0o700);
    writeFileSync(open, 'x', { mode: 0o644 });
    writeFileSync(shut, 'x', { mode: 0o600 });
    writeFileSync(join(inner, 'f'), 'x', { mode: 0o644 });
    chmodSync(open, 0o644);
    chmodSync(shut, 0o600);
    chmodSync(join(inner, 'f'), 0o644);
    const me = process.geteuid?.() ?? 0;
    const paths = [
      { what: 'open', path: open, access: 'read' as const },
      { what: 'shut', path: shut, access: 'read' as const },
      { what: 'behind a 0700 folder', path: join(inner, 'f'), access: 'read' as const },
      { what: 'folder', path: base, access: 'write-folder' as const },
      { what: 'absent', path: join(base, 'nope'), access: 'read' as const },
    ];
    const same = agentReach({ uid: me, gids: [] }, me, paths);
    assert.equal(same.sameUser, true);
    assert.deepEqual(same.reachable.map((p) => p.what), ['open', 'shut', 'behind a 0700 folder', 'folder']);
    const other = agentReach({ uid: 4242, gids: [4242] }, me, paths);
    assert.equal(other.sameUser, false);
    assert.deepEqual(other.reachable.map((p) => p.what), ['open']);
    // Group bits apply to a member; the owner's bits to the owner, even when others get more.
    const gid = process.getegid?.() ?? 0;
    chmodSync(shut, 0o640);
    assert.equal(canReach({ uid: 4242, gids: [gid] }, shut, 'read'), true);
    assert.equal(canReach({ uid: 4242, gids: [] }, shut, 'read'), false);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  const stats: Record<string, { mode: number; uid: number; gid: number }> = { '/': { mode: 0o40755, uid: 0, gid: 0 }, '/x': { mode: 0o40755, uid: 0, gid: 0 }, '/x/f': { mode: 0o100044, uid: 7, gid: 8 } };
  const fake = ((p: string) => {
    const st = stats[p];
    if (!st) throw new Error('ENOENT');
    return st;
  }) as unknown as Parameters<typeof canReach>[3];
  assert.equal(canReach({ uid: 7, gids: [] }, '/x/f', 'read', fake), false, 'the owner gets the owner bits (none), not the others\'');
  assert.equal(canReach({ uid: 9, gids: [] }, '/x/f', 'read', fake), true);
  assert.equal(canReach({ uid: 0, gids: [] }, '/x/nope', 'read', fake), false, 'absent: nobody, root included');
});

test('/proc/PID/status: the real uid (sudo keeps the agent there) and every group', () => {
  const status = 'Name:\tsudo\nUid:\t1000\t0\t0\t0\nGid:\t1000\t0\t0\t0\nGroups:\t27 1000 \n';
  assert.deepEqual(processUser(42, () => status), { uid: 1000, gids: [1000, 27] });
  assert.equal(processUser(0, () => status), null, 'pid 0: no visible parent (the first process of a container)');
  assert.equal(processUser(42, () => { throw new Error('ENOENT'); }), null);
});

test('not Linux, or no visible parent: a debug line that the check did not run, never a refusal', () => {
  const dir = wardenDir('refuse');
  try {
    const config = loadServerConfig(dir.configPath, families);
    assert.ok(guardedPaths(config).some((p) => p.path === join(dir.dir, 'db-url')));
    for (const host of [{ platform: 'darwin' as const, ppid: 1 }, { platform: 'linux' as const, ppid: 0 }]) {
      const logs: { level: string; msg: string }[] = [];
      checkAgentBoundary(config, (level, msg) => logs.push({ level, msg }), { ...host, wardenUid: 0, read: () => 'Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n' });
      assert.deepEqual(logs.map((l) => l.level), ['debug']);
      assert.match(logs[0]!.msg, /check did not run/);
    }
  } finally {
    dir.cleanup();
  }
});
