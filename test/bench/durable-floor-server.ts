/**
 * The recording floor for the query benchmark, end to end: an MCP stdio server on the same SDK
 * and serveStdio helper as `warden serve`, with one tool that runs the statement in one `pg`
 * round trip, answers the rows as text, and records the call in SQLite (WAL, synchronous FULL)
 * the way DESIGN.md principle 7 asks and nothing else: no parsing, no policy, no masking, no hash
 * chain. Mode `two` writes the intent (without its own fsync) before the statement and the
 * outcome (fsynced) before answering, as Warden does for a read; mode `one` writes a single
 * fsynced record after the statement (what a server that records only the outcome pays); mode
 * `flush` writes no SQLite at all, only one 4 KB `pwrite` and `fdatasync` of a file of its own
 * after the statement (the least any server that makes each answer durable pays); mode `none`
 * records nothing (the same server without the recording rule).
 * Measured beside Warden and the reference in the same run, it says how much of Warden's time
 * is the recording rule itself, wake-ups included, and how much is governance.
 * Run by query.bench.ts as a child process: durable-floor-server.js DATABASE_URL SQLITE_FILE MODE
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Server } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';

const [url, file, mode = 'two'] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: 2 });
const db = new Database(file!);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY, intent TEXT NOT NULL, outcome TEXT)');
const insertIntent = db.prepare('INSERT INTO calls (intent) VALUES (?)');
const setOutcome = db.prepare('UPDATE calls SET outcome = ? WHERE id = ?');
const insertBoth = db.prepare('INSERT INTO calls (intent, outcome) VALUES (?, ?)');
const relaxed = db.prepare('PRAGMA synchronous = NORMAL');
const strict = db.prepare('PRAGMA synchronous = FULL');
const flushFd = mode === 'flush' ? openSync(`${file!}.flush`, 'w+') : -1;
const page = Buffer.alloc(4096, 0x2a);

async function call(sql: string): Promise<string> {
  const intent = JSON.stringify({ tool: 'query', sql, at: new Date().toISOString() });
  let id = 0;
  if (mode === 'two') {
    relaxed.run();
    id = Number(insertIntent.run(intent).lastInsertRowid);
    strict.run();
  }
  const r = await pool.query({ text: sql, rowMode: 'array' });
  const text = [r.fields.map((f) => f.name).join('\t'), ...(r.rows as unknown[][]).map((row) => row.join('\t'))].join('\n');
  const outcome = JSON.stringify({ status: 'ok', rows: r.rows, at: new Date().toISOString() });
  if (mode === 'two') setOutcome.run(outcome, id);
  else if (mode === 'one') insertBoth.run(intent, outcome);
  else if (mode === 'flush') {
    writeSync(flushFd, page, 0, page.length, 0);
    fdatasyncSync(flushFd);
  }
  return text;
}

const handle = serveStdio(() => {
  const server = new Server({ name: 'durable-floor', version: '1' }, { capabilities: { tools: { listChanged: false } } });
  server.setRequestHandler('tools/list', async () => ({ tools: [{ name: 'query', description: 'run and record', inputSchema: { type: 'object' } }] }) as never);
  server.setRequestHandler('tools/call', async (req) => ({ content: [{ type: 'text', text: await call(String((req.params.arguments as { sql?: unknown } | undefined)?.sql ?? '')) }] }) as never);
  return server;
});
process.stdin.once('end', () => void handle.close().finally(async () => {
  await pool.end();
  db.close();
  if (flushFd >= 0) closeSync(flushFd);
  process.exit(0);
}));
