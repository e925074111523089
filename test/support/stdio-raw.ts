/**
 * A real `warden serve` child process over stdio spoken to in raw JSON-RPC lines (no SDK client),
 * for the tests of what the server does with lines a client should not send.
 */
import { spawn } from 'node:child_process';
import { after, before } from 'node:test';
import { WARDEN_BIN } from './repo.js';
import { createTestDatabase, type TestDatabase } from './pg-cluster.js';
import { writeWardenDir, type WardenDir } from './warden-process.js';

/** One line the server wrote. */
export type Answer = {
  id?: unknown;
  result?: { content?: { text?: string }[]; isError?: boolean; protocolVersion?: string; tools?: unknown[] };
  error?: { code: number; message: string; data?: { code?: string; reason?: string } };
};

export interface RawWarden {
  child: ReturnType<typeof spawn>;
  /** Write text and wait until it is taken (or the process is gone). */
  write(text: string): Promise<void>;
  /** Wait until the answers so far satisfy `pred`. */
  until(what: string, pred: (a: Answer[]) => boolean, ms?: number): Promise<void>;
  answers(): Answer[];
  /** The one answer with this id (throws when there is none or several). */
  answer(id: unknown): Answer;
  stderr(): string;
}

/** Bound of a start (spawn to the initialize answer): an "eventually", far past a start on a loaded machine. */
export const START_BOUND_MS = 120_000;

/** One JSON-RPC message as a line. */
export const line = (m: Record<string, unknown>) => JSON.stringify({ jsonrpc: '2.0', ...m }) + '\n';

/** An `initialize` request line. */
export const initializeLine = (id: unknown, clientName = 'raw') =>
  line({ id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: clientName, version: '1' } } });

/** Spawn `warden serve --config`; with `initialize` (the default) it is initialized (id 1) before it is returned. */
export async function rawWarden(configPath: string, env: Record<string, string>, opts: { initialize?: boolean } = {}): Promise<RawWarden> {
  const child = spawn(process.execPath, [WARDEN_BIN, 'serve', '--config', configPath], {
    env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<string>((r) => child.once('exit', (code, signal) => r(`exited (${code ?? signal})`)));
  const answers = (): Answer[] => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Answer);
  const write = (text: string) =>
    Promise.race([new Promise<void>((r) => (child.stdin!.write(text) ? r() : child.stdin!.once('drain', () => r()))), exited.then(() => undefined)]);
  const until = async (what: string, pred: (a: Answer[]) => boolean, ms = 15_000) => {
    for (const t0 = Date.now(); !pred(answers()); ) {
      if (Date.now() - t0 > ms || child.exitCode !== null) throw new Error(`${what}: no answer (${child.exitCode === null ? 'running' : await exited}); stderr: ${err.slice(-800)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const answer = (id: unknown) => {
    const found = answers().filter((m) => m.id === id);
    if (found.length !== 1) throw new Error(`${found.length} answers with id ${JSON.stringify(id)}: ${JSON.stringify(answers()).slice(0, 1500)}`);
    return found[0]!;
  };
  if (opts.initialize !== false) {
    try {
      await write(initializeLine(1));
      // How fast it starts is not under test: a loaded machine took over 10 s to answer.
      await until('initialize', (a) => a.some((m) => m.id === 1), START_BOUND_MS);
      await write(line({ method: 'notifications/initialized' }));
    } catch (e) {
      child.kill('SIGKILL'); // never left running behind a failed start
      throw e;
    }
  }
  return { child, write, until, answers, answer, stderr: () => err };
}

/**
 * The stdio tests' server: alice (group devs) may SELECT from public.items (one row) on
 * connection db, transcripts in the folder's warden.db. Registers its own before/after hooks.
 */
export function itemsWarden(prefix: string): { db: () => TestDatabase; dir: () => WardenDir; env: () => Record<string, string> } {
  let db: TestDatabase | undefined;
  let dir: WardenDir | undefined;
  before(async () => {
    db = await createTestDatabase({ prefix });
    await db.query(`CREATE TABLE items (id int); INSERT INTO items VALUES (1); GRANT SELECT ON items TO ${db.role}`);
    dir = writeWardenDir(ITEMS_CONFIG, { 'p.yaml': ITEMS_POLICY });
  });
  after(async () => {
    await db?.drop();
    dir?.cleanup();
  });
  return { db: () => db!, dir: () => dir!, env: () => ({ TEST_DATABASE_URL: db!.url }) };
}

const ITEMS_CONFIG = `transcripts: { store: sqlite:warden.db }
identity: { stdio: { subject: alice, groups: [devs] } }
connections:
  db: { type: postgres, url: env:TEST_DATABASE_URL }
policies: [policies/*.yaml]
`;
const ITEMS_POLICY = `rules:
  - id: read
    effect: allow
    who: { groups: [devs] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.items] }
`;
