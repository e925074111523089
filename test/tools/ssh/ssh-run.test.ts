/**
 * ssh_run without a host: facts and the canonical line, fail-closed execute, family
 * registration and config loading with FILE:LINE errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadServerConfig } from '../../../src/config/server-config.js';
import type { ExecContext } from '../../../src/tool-api.js';
import { families } from '../../../tools/index.js';
import { sshFamily } from '../../../tools/ssh/index.js';
import { parseSshCommand, sshRunInput, sshRunTool, type SshRunFacts } from '../../../tools/ssh/ssh-run.js';
import { compilePin, fingerprint } from '../../../tools/ssh/host-key.js';

const never = () => {
  throw new Error('the connector must not be reached');
};

describe('ssh_run parse', () => {
  test('a pipeline gets normalised words and one canonical line', async () => {
    const f = await parseSshCommand(`grep -i "conn refused" /var/log/app/a.log | wc -l`);
    assert.deepEqual(f.commands.map((c) => c.program), ['grep', 'wc']);
    assert.deepEqual(f.commands[0]!.args, ['-i', 'conn refused', '/var/log/app/a.log']);
    assert.equal(f.commandLine, `'grep' -i 'conn refused' /var/log/app/a.log | 'wc' -l`);
  });

  test('lines that cannot be rebuilt carry no command line; bad input is a parse error', async () => {
    assert.equal((await parseSshCommand('ls; rm -rf /')).commandLine, null);
    assert.equal((await parseSshCommand('cat $(id)')).commandLine, null);
    await assert.rejects(parseSshCommand('ls\0rm'), (e: Error & { code?: string }) => e.code === 'WARDEN_PARSE');
    await assert.rejects(parseSshCommand("grep 'abc"), (e: Error & { code?: string }) => e.code === 'WARDEN_PARSE');
  });

  test('input schema is strict and bounded', () => {
    assert.equal(sshRunInput.safeParse({ connection: 'web-1', command: 'uptime' }).success, true);
    assert.equal(sshRunInput.safeParse({ connection: 'web-1', command: 'uptime', env: { X: '1' } }).success, false);
    assert.equal(sshRunInput.safeParse({ connection: 'web-1', command: 'uptime', timeout_s: 0 }).success, false);
    assert.equal(sshRunInput.safeParse({ connection: 'web-1', command: 'x'.repeat(9000) }).success, false);
  });

  test('execute refuses facts with constructs beyond a pipeline, before any connection', async () => {
    const tool = sshRunTool(never as never);
    const facts = (await parseSshCommand('ls && rm -rf /')) as SshRunFacts;
    const ctx = { connection: { name: 'web-1', type: 'ssh', command_timeout: 1000, max_output_bytes: 1024 }, limits: { timeoutMs: 1000, maxRows: 1, maxBytes: 1024 }, signal: new AbortController().signal } as unknown as ExecContext;
    await assert.rejects(tool.execute({ connection: 'web-1', command: 'ls && rm -rf /' }, facts, ctx), (e: Error & { code?: string }) => e.code === 'WARDEN_PARSE');
  });

  test('canonicalArgs bind approvals to the rebuilt line', async () => {
    const tool = sshRunTool(never as never);
    const a = await parseSshCommand(`ls   "/var/log/app"`);
    const b = await parseSshCommand(`ls /var/log/app`);
    assert.deepEqual(tool.canonicalArgs!({ connection: 'w', command: 'x' }, a), tool.canonicalArgs!({ connection: 'w', command: 'y' }, b));
  });
});

describe('ssh family', () => {
  test('is registered with the shell condition', () => {
    assert.ok(families.includes(sshFamily));
    assert.equal(sshFamily.connectionType, 'ssh');
    assert.deepEqual(sshFamily.conditions.map((c) => c.key), ['shell']);
  });

  test('host key pins: the fingerprint of a key line is the OpenSSH one', () => {
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]);
    const pin = compilePin(`ssh-ed25519 ${blob.toString('base64')} test`);
    assert.equal(pin.fingerprint, fingerprint(blob));
    assert.equal(pin.keyType, 'ssh-ed25519');
    assert.throws(() => compilePin(`ssh-rsa ${blob.toString('base64')}`));
  });

  test('warden.yaml: max_sessions_per_principal above max_sessions, or misspelt, is refused at its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-ssh-conf-'));
    try {
      const file = join(dir, 'warden.yaml');
      const head = 'policies: []\nconnections:\n  web-1:\n    type: ssh\n    host: 10.0.0.5\n    user: deploy\n    private_key: env:KEY\n    host_key: "SHA256:' + 'A'.repeat(43) + '"\n    max_sessions: 4\n';
      writeFileSync(file, head + '    max_sessions_per_principal: 6\n');
      assert.throws(() => loadServerConfig(file, families), (e: Error) => {
        assert.match(e.message, /warden\.yaml:10: connections\.web-1\.max_sessions_per_principal: .*at most max_sessions \(4\)/);
        return true;
      });
      writeFileSync(file, head + '    max_session_per_principal: 2\n');
      assert.throws(() => loadServerConfig(file, families), /warden\.yaml:10: connections\.web-1\.max_session_per_principal: unknown key/);
      writeFileSync(file, head + '    max_sessions_per_principal: 2\n');
      const conn = loadServerConfig(file, families).connections.find((c) => c.name === 'web-1');
      assert.equal(conn?.max_sessions_per_principal, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('execute runs the command under the calling principal (its share of the host’s sessions)', async () => {
    const seen: { principal?: string | undefined }[] = [];
    const fake = { run: async (_line: string, o: { principal?: string }) => (seen.push({ principal: o.principal }), { stdout: '', stderr: '', exitCode: 0, exitSignal: null, truncated: false, durationMs: 1 }) };
    const tool = sshRunTool((() => fake) as never);
    const facts = (await parseSshCommand('uptime')) as SshRunFacts;
    const ctx = {
      principal: { subject: 'alice', groups: [], claims: {}, authMethod: 'oidc' },
      connection: { name: 'web-1', type: 'ssh', command_timeout: 1000, max_output_bytes: 1024 },
      limits: { timeoutMs: 1000, maxRows: 1, maxBytes: 1024 },
      signal: new AbortController().signal,
    } as unknown as ExecContext;
    await tool.execute({ connection: 'web-1', command: 'uptime' }, facts, ctx);
    assert.deepEqual(seen, [{ principal: 'oidc:alice' }]);
  });

  test('warden.yaml with a bad ssh connection names the file, line and key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-ssh-conf-'));
    try {
      const file = join(dir, 'warden.yaml');
      writeFileSync(file, 'connections:\n  web-1:\n    type: ssh\n    host: 10.0.0.5\n    user: deploy\n    private_key: "-----BEGIN KEY"\n    host_key: "SHA256:' + 'A'.repeat(43) + '"\n');
      assert.throws(() => loadServerConfig(file, families), (e: Error) => {
        assert.match(e.message, /warden\.yaml:6/);
        assert.match(e.message, /private_key/);
        assert.ok(!e.message.includes('BEGIN KEY'), 'the inline secret is not echoed');
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
