// A throwaway PostgreSQL server for integration tests, and per-test databases on it.
//
// Tests talk to a real server (DESIGN.md: no fakes where the real peer can run). `npm test`
// starts ONE cluster for the whole run and exports WARDEN_TEST_PG_URL; a test file run on its
// own starts its own cluster lazily. Each test gets its own database and login role, so files
// running in parallel never see each other's tables.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findPgBinDir, freePort, isRoot } from './system-deps.js';

/** A running cluster; `stop()` shuts it down and deletes its files. */
export interface PgCluster {
  /** Superuser URL over TCP 127.0.0.1 (trust auth for `postgres` on loopback). */
  url: string;
  port: number;
  /** Temp dir holding data/, the unix socket and the server log. */
  dir: string;
  stop(): Promise<void>;
  /** Synchronous stop, for process 'exit' hooks where nothing can be awaited. */
  stopSync(): void;
}

/** A database of its own for one test, with a least-privilege login role. */
export interface TestDatabase {
  /** Superuser URL connected to this database: seed tables and grant privileges with it. */
  adminUrl: string;
  dbName: string;
  /** LOGIN role that owns nothing; it has CONNECT on this database only (nothing else granted). */
  role: string;
  password: string;
  /** Login role URL with its password, connected to this database. */
  url: string;
  host: string;
  port: number;
  /** Superuser pool on this database (created on first call, ended by drop()). */
  admin(): pg.Pool;
  /** Shortcut for admin().query(). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Terminates connections, drops the database and the role. Safe to call twice. */
  drop(): Promise<void>;
}

const SUPERUSER = 'postgres';
const START_ATTEMPTS = 3;

interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a PostgreSQL program, as the `postgres` system user when we are root (postgres refuses root). */
function pgCommand(bin: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function run(bin: string, args: string[], cwd: string): Promise<RunResult> {
  const [cmd, argv] = pgCommand(bin, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: pgEnv() });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    // 'exit', not 'close': the daemonised postmaster must not be able to hold us up.
    child.on('exit', (code) => resolve({ code, output }));
  });
}

function pgEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  for (const key of Object.keys(env)) if (key.startsWith('PG')) delete env[key];
  return env;
}


function postgresIds(): { uid: number; gid: number } {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('running as root but there is no `postgres` system user (the Debian postgresql package creates it)');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

const HBA = `# written by test/support/pg-cluster.ts
local all ${SUPERUSER} trust
host  all ${SUPERUSER} 127.0.0.1/32 trust
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
`;

const CONF = `
# test cluster settings (test/support/pg-cluster.ts)
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 32MB
password_encryption = 'scram-sha-256'
log_min_messages = warning
log_min_error_statement = panic
`;

async function tailLog(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-30).join('\n');
  } catch {
    return '(no server log)';
  }
}

/** Extras for a cluster some tests need (pg-tls-cluster.ts: `ssl = on` and its certificate). */
export interface PgClusterOptions {
  /** Files written into the data directory (mode 0600, owned by the server's user). */
  files?: Record<string, string>;
  /** Lines appended to postgresql.conf. */
  conf?: string;
}

/**
 * Starts a private PostgreSQL cluster: initdb on a temp dir, a random free 127.0.0.1 port,
 * unix sockets inside the temp dir. Built for speed, not durability (fsync off).
 */
export async function startPgCluster(opts: PgClusterOptions = {}): Promise<PgCluster> {
  const binDir = findPgBinDir();
  if (binDir === null) {
    throw new Error('PostgreSQL not found under /usr/lib/postgresql/*/bin: install the Debian package postgresql');
  }
  const dir = await mkdtemp(join(tmpdir(), 'warden-pg-'));
  const dataDir = join(dir, 'data');
  const sockDir = join(dir, 'sock');
  const logFile = join(dir, 'server.log');
  const pgCtl = join(binDir, 'pg_ctl');

  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    await mkdir(sockDir);
    await writeFile(logFile, '');
    if (isRoot()) {
      const { uid, gid } = postgresIds();
      // The temp dir's parent (tmpdir) must be traversable by postgres; /tmp is.
      await chmod(dir, 0o700);
      for (const p of [dir, sockDir, logFile]) await chown(p, uid, gid);
    }
    const init = await run(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      dir,
    );
    if (init.code !== 0) throw new Error(`initdb failed (exit ${init.code}):\n${init.output}`);
    await writeFile(join(dataDir, 'pg_hba.conf'), HBA);
    await appendFile(join(dataDir, 'postgresql.conf'), CONF + (opts.conf ?? ''));
    for (const [name, text] of Object.entries(opts.files ?? {})) {
      const file = join(dataDir, name);
      await writeFile(file, text, { mode: 0o600 });
      if (isRoot()) await chown(file, postgresIds().uid, postgresIds().gid);
    }

    let port = 0;
    let started: RunResult | null = null;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      port = await freePort();
      started = await run(
        pgCtl,
        ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port} -k ${sockDir}`, 'start'],
        dir,
      );
      if (started.code === 0) break;
      // Most likely someone took the port between our probe and the bind: try another.
    }
    if (started === null || started.code !== 0) {
      throw new Error(`pg_ctl start failed:\n${started?.output ?? ''}\n--- server log ---\n${await tailLog(logFile)}`);
    }

    let stopped = false;
    const stopArgs = ['-D', dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop'];
    const cluster: PgCluster = {
      url: `postgresql://${SUPERUSER}@127.0.0.1:${port}/postgres`,
      port,
      dir,
      async stop() {
        if (stopped) return;
        stopped = true;
        await run(pgCtl, stopArgs, dir).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
      stopSync() {
        if (stopped) return;
        stopped = true;
        const [cmd, argv] = pgCommand(pgCtl, stopArgs);
        spawnSync(cmd, argv, { cwd: dir, stdio: 'ignore', env: pgEnv() });
        removeDir();
      },
    };

    try {
      await lockDownDefaultDatabases(cluster.url);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  } catch (err) {
    // Nothing may outlive a failed start: a half-started server, then its files.
    spawnSync(...pgCommand(pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop']), { cwd: dir, stdio: 'ignore', env: pgEnv() });
    removeDir();
    throw err;
  }
}

/** Login roles may reach only the database they were granted, not `postgres` or `template1`. */
async function lockDownDefaultDatabases(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC');
    await client.query('REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC');
  } finally {
    await client.end();
  }
}

let lazyCluster: Promise<PgCluster> | null = null;

/** The server tests use: WARDEN_TEST_PG_URL when set, else one cluster for this process. */
export async function testServerUrl(): Promise<string> {
  const fromEnv = process.env['WARDEN_TEST_PG_URL'];
  if (fromEnv) return fromEnv;
  lazyCluster ??= startPgCluster().then((cluster) => {
    stopAtExit(cluster);
    return cluster;
  });
  return (await lazyCluster).url;
}

/** Stop `cluster` when this process exits or is interrupted. */
export function stopAtExit(cluster: PgCluster): void {
  process.once('exit', () => cluster.stopSync());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      cluster.stopSync();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function withPath(url: string, dbName: string, user?: string, password?: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(dbName)}`;
  if (user !== undefined) {
    u.username = encodeURIComponent(user);
    u.password = encodeURIComponent(password ?? '');
  }
  return u.toString();
}

function sanitizePrefix(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^[^a-z_]+/, '');
  return (clean || 'warden_test').slice(0, 40);
}

async function withMaintenance<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a uniquely named database plus a LOGIN role with a random password and CONNECT on
 * that database only. Seed through `admin()`/`query()` and grant the role what the test needs.
 * `serverUrl`: another cluster's superuser URL (pg-tls-cluster.ts) instead of testServerUrl().
 */
export async function createTestDatabase(opts: { prefix?: string; serverUrl?: string } = {}): Promise<TestDatabase> {
  const serverUrl = opts.serverUrl ?? (await testServerUrl());
  const suffix = randomBytes(5).toString('hex');
  const dbName = `${sanitizePrefix(opts.prefix ?? 'warden_test')}_${suffix}`;
  const role = `${dbName}_login`;
  const password = randomBytes(18).toString('base64url');
  const db = pg.escapeIdentifier(dbName);
  const r = pg.escapeIdentifier(role);

  await withMaintenance(serverUrl, async (c) => {
    await c.query(
      `CREATE ROLE ${r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${pg.escapeLiteral(password)}`,
    );
    try {
      await c.query(`CREATE DATABASE ${db}`);
      await c.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
      await c.query(`GRANT CONNECT ON DATABASE ${db} TO ${r}`);
    } catch (err) {
      await c.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
      await c.query(`DROP ROLE IF EXISTS ${r}`).catch(() => undefined);
      throw err;
    }
  });

  const server = new URL(serverUrl);
  const adminUrl = withPath(serverUrl, dbName);
  let pool: pg.Pool | null = null;
  let dropped = false;
  const admin = (): pg.Pool => {
    if (dropped) throw new Error(`test database ${dbName} was dropped`);
    if (!pool) {
      pool = new pg.Pool({ connectionString: adminUrl, max: 4, allowExitOnIdle: true });
      // pg-pool's end() resolves before its clients have closed; drop() then terminates their
      // backends, and an idle client told "terminating connection" emits a pool 'error' that,
      // unheard, was an uncaught exception failing whichever test file was tearing down.
      pool.on('error', () => undefined);
      // A checked-out client whose backend drop() terminates emits 'error' too (not the pool).
      pool.on('connect', (c) => c.on('error', () => undefined));
    }
    return pool;
  };

  return {
    adminUrl,
    dbName,
    role,
    password,
    url: withPath(serverUrl, dbName, role, password),
    host: server.hostname,
    port: Number(server.port || 5432),
    admin,
    query: (sql, params) => admin().query(sql, params),
    async drop() {
      if (dropped) return;
      dropped = true;
      const p = pool;
      pool = null;
      await p?.end();
      await withMaintenance(serverUrl, async (c) => {
        await c.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE (datname = $1 OR usename = $2) AND pid <> pg_backend_pid()',
          [dbName, role],
        );
        await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS ${r}`);
      });
    },
  };
}

/**
 * Stop (immediate, like a crash) or start again a cluster from startPgCluster(), on the same port
 * and data; why: the reliability tests take the database away under load and bring it back.
 */
export async function setPgClusterRunning(cluster: PgCluster, running: boolean): Promise<void> {
  const binDir = findPgBinDir();
  if (binDir === null) throw new Error('PostgreSQL not found');
  const dataDir = join(cluster.dir, 'data');
  const args = running
    ? ['-D', dataDir, '-l', join(cluster.dir, 'server.log'), '-w', '-t', '60', '-o', `-p ${cluster.port} -k ${join(cluster.dir, 'sock')}`, 'start']
    : ['-D', dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop'];
  const r = await run(join(binDir, 'pg_ctl'), args, cluster.dir);
  if (r.code !== 0) throw new Error(`pg_ctl ${running ? 'start' : 'stop'} failed:\n${r.output}`);
}
