/**
 * Start a real `warden serve` child process over stdio with a config written to a temp dir,
 * and connect the real SDK v2 MCP client to it.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { WARDEN_BIN } from './repo.js';

/** A config folder with warden.yaml and policies/. */
export interface WardenDir {
  dir: string;
  configPath: string;
  dbPath: string;
  cleanup(): void;
}

/** Write warden.yaml (given as YAML text) and policy files into a fresh temp dir. */
export function writeWardenDir(config: string, policies: Record<string, string>): WardenDir {
  const dir = mkdtempSync(join(tmpdir(), 'warden-test-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'warden.yaml'), config);
  for (const [name, text] of Object.entries(policies)) writeFileSync(join(dir, 'policies', name), text);
  return { dir, configPath: join(dir, 'warden.yaml'), dbPath: join(dir, 'warden.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A connected client and helpers. */
export interface WardenSession {
  client: Client;
  stderr: () => string;
  /** The `warden serve` child's process id (a test sends it SIGHUP, the operator's policy reload). */
  pid: number;
  call(tool: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean; structured: Record<string, unknown> | undefined }>;
  close(): Promise<void>;
}

/** Spawn `warden serve --config` and connect a real MCP client over stdio. */
export async function connectWarden(configPath: string, env: Record<string, string> = {}): Promise<WardenSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [WARDEN_BIN, 'serve', '--config', configPath],
    env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn', ...env },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'warden-test-agent', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    stderr: () => err,
    pid: transport.pid!,
    async call(tool, args) {
      const r = await client.callTool({ name: tool, arguments: args });
      const text = (r.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');
      return { text, isError: r.isError === true, structured: r.structuredContent as Record<string, unknown> | undefined };
    },
    async close() {
      await client.close();
    },
  };
}
