/**
 * Helpers for the reliability tests: `warden serve --http` child processes on a fixed port (so a
 * killed server comes back where the clients expect it), configs for a store and a target
 * database, and an agent that reconnects when its server dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { WARDEN_BIN } from '../support/repo.js';
import { connectHttpAgent, type HttpAgent } from '../support/http-agent.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';

/** Policy: dev reads items; an update of items needs one dba approval (waits up to 30 s). */
export const POLICY = `
rules:
  - id: dev-read
    effect: allow
    who: { groups: [dev] }
    tool: query_database
    on: [target]
    sql: { statements: [select], read: [public.items] }
  - id: dev-insert
    effect: allow
    who: { groups: [dev] }
    tool: query_database
    on: [target]
    sql: { statements: [insert], write: [public.items] }
  - id: items-fix
    effect: allow
    who: { groups: [dev] }
    tool: query_database
    on: [target]
    sql: { statements: [update], write: [public.items] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 10m, wait: 30s }
`;

/** Target seed: the table the agents read and write. */
export const SEED = `CREATE TABLE items (id serial PRIMARY KEY, name text, n int);
INSERT INTO items (name, n) SELECT 'item ' || g, g FROM generate_series(1, 50) g;`;

/** warden.yaml for an OIDC-authenticated HTTP server (identity from the issuer) or a stdio one. */
export function configText(o: { store: string; issuer?: { issuer: string; audience: string }; synchronous?: 'FULL' | 'NORMAL'; livenessGrace?: string }): string {
  const identity = o.issuer
    ? `identity:
  oidc:
    issuer: ${o.issuer.issuer}
    audience: ${o.issuer.audience}
    groups_claim: groups
    required_scopes: [mcp]
    jwks_cooldown: 1s`
    : 'identity: { stdio: { subject: agent, groups: [dev] } }';
  return `transcripts: { store: "${o.store}", synchronous: ${o.synchronous ?? 'FULL'}${o.livenessGrace ? `, liveness_grace: ${o.livenessGrace}` : ''} }
responses: { structured_content: true }
${identity}
masking: { hash_key: env:WARDEN_TEST_HASH_KEY }
connections:
  target: { type: postgres, url: env:TARGET_DATABASE_URL, statement_timeout: 5s, max_rows: 100 }
policies: [policies/*.yaml]
`;
}

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A running `warden serve --http` child. */
export interface Replica {
  url: string;
  proc: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawn `warden serve --http 127.0.0.1:PORT --config FILE` and wait until it listens. */
export async function startReplica(configPath: string, port: number, env: Record<string, string>): Promise<Replica> {
  const proc = spawn(process.execPath, [WARDEN_BIN, 'serve', '--http', `127.0.0.1:${port}`, '--config', configPath], {
    env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn', WARDEN_TEST_HASH_KEY: 'reliability-test-key', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`replica did not start:\n${err}`)), 20_000);
    const check = () => {
      const m = /MCP over Streamable HTTP at (http:\/\/\S+)\/mcp/.exec(err);
      if (m) (clearTimeout(t), resolve(m[1]!));
    };
    proc.stderr!.on('data', check);
    void exited.then((code) => (clearTimeout(t), reject(new Error(`replica exited (${code}) before listening:\n${err}`))));
  });
  return {
    url,
    proc,
    stderr: () => err,
    exited,
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** Two replicas on one PostgreSQL store, their target database and OIDC issuer, and what stops them all. */
export interface ReplicaPair {
  storeDb: TestDatabase;
  target: TestDatabase;
  issuer: OidcIssuer;
  dir: WardenDir;
  /** The environment the replicas run with (store and target URLs), for a third process on the same store. */
  env: Record<string, string>;
  replicas: [Replica, Replica];
  stop(): Promise<void>;
}

/**
 * Start two `warden serve --http` replicas sharing one PostgreSQL transcript store (the store URL
 * a secret reference: its password never sits in warden.yaml), on the POLICY and SEED target;
 * `extraConfig` is appended to warden.yaml; `policy` replaces POLICY; `livenessGrace` sets
 * transcripts.liveness_grace (default 5s).
 */
export async function startReplicaPair(prefix: string, extraConfig = '', policy = POLICY, opts: { livenessGrace?: string } = {}): Promise<ReplicaPair> {
  const [storeDb, target, issuer] = await Promise.all([createTestDatabase({ prefix: `${prefix}store` }), createTestDatabase({ prefix: `${prefix}target` }), startOidcIssuer()]);
  await storeDb.query(`GRANT ALL ON SCHEMA public TO ${storeDb.role}`);
  await target.query(SEED);
  await target.query(`GRANT SELECT, INSERT, UPDATE ON items TO ${target.role}; GRANT USAGE ON SEQUENCE items_id_seq TO ${target.role}`);
  const dir = writeWardenDir(`${configText({ store: 'env:WARDEN_STORE_URL', issuer, ...(opts.livenessGrace ? { livenessGrace: opts.livenessGrace } : {}) })}${extraConfig}`, { 'base.yaml': policy });
  const env = { WARDEN_STORE_URL: storeDb.url, TARGET_DATABASE_URL: target.url };
  const replicas = (await Promise.all([startReplica(dir.configPath, await freePort(), env), startReplica(dir.configPath, await freePort(), env)])) as [Replica, Replica];
  return {
    storeDb, target, issuer, dir, env, replicas,
    async stop() {
      await Promise.all(replicas.map((r) => r.kill('SIGTERM')));
      await issuer.stop();
      await Promise.all([storeDb.drop(), target.drop()]);
      dir.cleanup();
    },
  };
}

/** An agent that reconnects (new session) after its server went away. */
export class ResilientAgent {
  private agent: HttpAgent | null = null;
  constructor(private readonly url: string, private readonly token: () => Promise<string>) {}

  /** One call; throws when the server is unreachable or the session died (the caller retries). */
  async call(tool: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean; structured: Record<string, unknown> | undefined }> {
    try {
      this.agent ??= await withTimeout(connectHttpAgent(this.url, await this.token()), 5000);
      return await withTimeout(this.agent.call(tool, args), 15_000);
    } catch (e) {
      const a = this.agent;
      this.agent = null;
      void a?.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.agent?.close();
    this.agent = null;
  }
}

/** Reject after ms; why: a call to a killed server must not hang a test. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e: unknown) => (clearTimeout(t), reject(e)));
  });
}

/** Run `node bin/warden.js ARGS`; resolves with the exit code and output. */
export function wardenCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [WARDEN_BIN, ...args], { env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn', WARDEN_TEST_HASH_KEY: 'reliability-test-key', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, out, err }));
  });
}
