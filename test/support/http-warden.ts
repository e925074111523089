/**
 * An in-process Warden served over real Streamable HTTP: a local OIDC issuer, a real PostgreSQL
 * database, a config folder in a temp dir, the runtime and serveOverHttp on a random port.
 */
import { after, before } from 'node:test';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { families } from '../../tools/index.js';
import { startRuntime, type Runtime } from '../../src/server/runtime.js';
import { serveOverHttp, type HttpServerHandle } from '../../src/server/http.js';
import { setLogLevel } from '../../src/server/log.js';
import type { ServeDeps } from '../../src/server/mcp-server.js';
import { createTestDatabase, type TestDatabase } from './pg-cluster.js';
import { startOidcIssuer, type OidcIssuer } from './oidc-issuer.js';
import { writeWardenDir, type WardenDir } from './warden-process.js';
import { WARDEN_BIN } from './repo.js';

/**
 * ServeDeps for tests of the HTTP session registry alone (createSessionRegistry): no tool is
 * listed or called, sessions open and close without a store.
 */
export const SESSION_ONLY_DEPS = {
  pipeline: { listTools: () => [], handle: async () => { throw new Error('not used'); }, stages: [] },
  store: { openSession: async () => undefined, closeSession: async () => undefined },
  version: '0',
  structuredContent: false,
  log: () => undefined,
} as unknown as ServeDeps;

/**
 * Listen on a loopback port with `server` (a plain node:http server in front of a session
 * registry) and close the registry, its connections and the server after test `t`; the /mcp URL.
 */
export async function listenForRegistry(t: { after(fn: () => Promise<void>): void }, server: Server, registry: { closeAll(): Promise<void> }): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(async () => {
    await registry.closeAll();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

/** Everything a test needs. */
export interface HttpWarden {
  db: TestDatabase;
  issuer: OidcIssuer;
  dir: WardenDir;
  rt: Runtime;
  http: HttpServerHandle;
  url: string;
  /** Mint a token for a subject in groups (scope mcp unless given). */
  token(sub: string, groups: string[], extra?: Record<string, unknown>): Promise<string>;
  /** Rows of the transcript's calls table. */
  calls(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Seed data every HTTP test uses. */
export const SEED = `
  CREATE TABLE users (id serial PRIMARY KEY, name text, email text);
  CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total numeric);
  CREATE TABLE slow (id int);
  INSERT INTO users (name, email) VALUES ('Alice', 'alice@example.com'), ('Bob', 'bob@example.com');
  INSERT INTO orders (user_id, total) SELECT 1 + (g % 2), g FROM generate_series(1, 20) g;
  INSERT INTO slow VALUES (1);
`;

/**
 * Start it all. `config` gets ISSUER and AUDIENCE substituted; `extraConfig` is appended;
 * `opts.oidc` (YAML lines) is added to identity.oidc, `opts.connection` to the analytics connection
 * (its `statement_timeout:` replaces the default 5s); `opts.dpopClock` is the clock of its DPoP
 * checks (proof iat, server nonces), so a test moves time without waiting.
 */
export async function startHttpWarden(policies: Record<string, string>, extraConfig = '', opts: { audience?: string; oidc?: string; connection?: string; dpopClock?: () => number } = {}): Promise<HttpWarden> {
  setLogLevel(process.env.WARDEN_LOG_LEVEL === 'debug' ? 'debug' : 'silent');
  const db = await createTestDatabase({ prefix: 'http' });
  await db.query(SEED);
  for (const t of ['users', 'orders', 'slow']) await db.query(`GRANT SELECT ON ${t} TO ${db.role}`);
  const issuer = await startOidcIssuer({ ...(opts.audience ? { audience: opts.audience } : {}) });
  // The runtime runs in this process and reads the URL from its environment: a variable of this
  // Warden's own, since other Wardens in the process (test files share one: scripts/test-groups.mjs) have theirs.
  const urlVar = `HTTP_TEST_DATABASE_URL_${randomBytes(6).toString('hex')}`;
  const dir = writeWardenDir(httpConfig(issuer, extraConfig, opts.oidc, opts.connection, urlVar), policies);
  process.env[urlVar] = db.url;
  let rt: Runtime | undefined;
  let http: HttpServerHandle;
  try {
    rt = await startRuntime(dir.configPath, families);
    http = await serveOverHttp(rt, { host: '127.0.0.1', port: 0, version: 'test', shutdownTimeoutMs: 10_000, ...(opts.dpopClock ? { dpopClock: opts.dpopClock } : {}) });
  } catch (e) {
    // A config the runtime refuses: what was started is stopped, so the test process can exit.
    await rt?.close().catch(() => undefined);
    await issuer.stop().catch(() => undefined);
    await db.drop().catch(() => undefined);
    delete process.env[urlVar];
    dir.cleanup();
    throw e;
  }
  let stopped = false;
  return {
    db,
    issuer,
    dir,
    rt,
    http,
    url: http.url,
    token: (sub, groups, extra = {}) => issuer.mint({ sub, groups, scope: 'mcp', ...extra }),
    calls() {
      const t = new Database(dir.dbPath, { readonly: true });
      try {
        // outcome_body: the outcome record, which holds the result (calls.result stays NULL).
        return t.prepare('SELECT c.*, r.body AS outcome_body FROM calls c LEFT JOIN records r ON r.seq = c.outcome_seq ORDER BY c.seq').all() as Record<string, unknown>[];
      } finally {
        t.close();
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await http.close().catch(() => undefined);
      await rt.close().catch(() => undefined);
      await issuer.stop().catch(() => undefined);
      await db.drop().catch(() => undefined);
      delete process.env[urlVar];
      dir.cleanup();
    },
  };
}

/** The warden.yaml of an HTTP test Warden: the issuer's OIDC settings, the test database as `analytics`. */
function httpConfig(issuer: OidcIssuer, extraConfig: string, oidcExtra = '', connectionExtra = '', urlVar = 'HTTP_TEST_DATABASE_URL'): string {
  const more = oidcExtra.split('\n').filter(Boolean).map((l) => `    ${l}\n`).join('');
  const conn = connectionExtra.split('\n').filter(Boolean).map((l) => `    ${l}\n`).join('');
  return `
transcripts: { store: sqlite:warden.db }
responses: { structured_content: true }
identity:
  oidc:
    issuer: ${issuer.issuer}
    audience: ${issuer.audience}
    groups_claim: groups
    required_scopes: [mcp]
    jwks_cooldown: 1s
${more}connections:
  analytics:
    type: postgres
    url: env:${urlVar}
${/^statement_timeout:/m.test(connectionExtra) ? '' : '    statement_timeout: 5s\n'}    max_rows: 1000
${conn}policies: [policies/*.yaml]
${extraConfig}
`;
}

/**
 * A second Warden beside `base`, as its own `warden serve --http` process (same database and
 * issuer, its own config folder and transcript), so that a benchmark's clients and the server do
 * not share an event loop, or a test needs the real command's wiring (the UI mount). Stop it before `base`.
 */
export async function spawnHttpWarden(base: HttpWarden, policies: Record<string, string>, extraConfig = '', opts: { ui?: boolean } = {}): Promise<{ url: string; stop(): Promise<void> }> {
  // The reviewer UI is off unless asked for (`opts.ui`: mounted under /ui, as `serve --http` does by default).
  const dir = writeWardenDir(httpConfig(base.issuer, `${opts.ui ? '' : 'ui: { enabled: false }\n'}${extraConfig}`), policies);
  const child = spawn(process.execPath, [WARDEN_BIN, 'serve', '--http', '127.0.0.1:0', '--config', dir.configPath], {
    env: { PATH: process.env.PATH ?? '', HTTP_TEST_DATABASE_URL: base.db.url, WARDEN_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`warden serve --http did not start: ${stderr}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /MCP over Streamable HTTP at (\S+)\/mcp/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`warden serve --http exited (${code}): ${stderr}`));
    });
  });
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      dir.cleanup();
    },
  };
}

/** Hold an exclusive lock on a table so that a query on it blocks until `release()`. */
export async function lockTable(db: TestDatabase, table: string): Promise<() => Promise<void>> {
  const c = await db.admin().connect();
  await c.query('BEGIN');
  await c.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return async () => {
    await c.query('COMMIT');
    c.release();
  };
}

/** Sessions of the database's role (the connection's) waiting on a lock now. */
export async function lockWaiters(db: TestDatabase): Promise<number> {
  const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND usename = $2 AND wait_event_type = 'Lock'`, [db.dbName, db.role]);
  return r.rows[0]!.n;
}

/** Wait until `cond()` holds (polling), or fail after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A raw JSON-RPC `tools/call` of query_database with `args` (for tests that post bodies themselves). */
export const queryCallBody = (id: number, args: Record<string, unknown> = { connection: 'analytics', sql: 'SELECT id, total FROM orders' }): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'query_database', arguments: args } });

/** One allow rule: group sre may SELECT from public.orders on analytics (the HTTP identity tests' base policy). */
export const SRE_READ_ORDERS = `
rules:
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.orders] }
`;

/** Group sre may SELECT public.users and public.orders on analytics, and public.slow once the requester confirms (confirm: requester). */
export const SRE_READ_AND_SLOW_CONFIRM = `
rules:
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.users, public.orders] }
  - id: slow-confirm
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.slow] }
    approval: { confirm: requester }
`;

/** A raw JSON-RPC `tools/call` of query_database on analytics running `sql`, with any id (a string, a repeated one). */
export const sqlCallBody = (id: unknown, sql: string): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'analytics', sql } } });

/** A Warden over HTTP on `policies` for the whole file (its own before/after hooks); the getter is valid inside tests. */
export function httpWardenForFile(policies: Record<string, string>): () => HttpWarden {
  let w: HttpWarden | undefined;
  before(async () => {
    w = await startHttpWarden(policies);
  });
  after(() => w?.stop());
  return () => w!;
}
