/**
 * `warden demo`: the embedded default. An in-process PostgreSQL (PGlite served on a loopback
 * port, so the same `pg` connector is used), sample data, a demo policy, and a scripted agent
 * session through a real MCP client over stdio; then the transcript. `--serve` keeps the
 * database up and prints the MCP client config to paste into Claude Desktop or any client.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { openSqliteStore } from '../recorder/index.js';
import { UsageError, type ParsedArgs } from './args.js';
import { runTranscriptsCommand } from './transcripts-command.js';
import { startStandaloneUi } from './ui-serve.js';
import { createApprovalService } from '../approvals/index.js';
import type { UiStore } from '../ui/index.js';
import { jsonDoc, stderrLine, stdoutLine } from './terminal-out.js';

const SEED = `
CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, email text, ssn text);
CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users(id), total numeric(10,2), created timestamptz DEFAULT now());
INSERT INTO users (name, email, ssn) VALUES
  ('Alice', 'alice@example.com', '123-45-6789'),
  ('Bob', 'bob@example.com', '234-56-7890'),
  ('Carol', 'carol@example.org', '345-67-8901');
INSERT INTO orders (user_id, total) VALUES (1, 42.50), (1, 19.99), (2, 5.00), (3, 120.00);
`;

const CONFIG = `# Demo configuration written by \`warden demo\`.
transcripts:
  store: sqlite:warden.db
  synchronous: NORMAL
identity:
  stdio: { subject: demo-agent, groups: [analysts] }
connections:
  shop:
    type: postgres
    url: env:WARDEN_DEMO_DATABASE_URL
    statement_timeout: 5s
    max_rows: 100
    pool_size: 2
    description: Demo shop database (users, orders)
policies: [policies/*.yaml]
`;

const POLICY = `# Demo policy: analysts read users and orders; emails and SSNs are masked.
masking:
  columns:
    - { column: public.users.email, with: partial }
    - { column: public.users.ssn, with: redact }
  detectors: [email, credit_card, us_ssn, jwt, aws_access_key, private_key, password_in_url, bearer_token]
rules:
  - id: analysts-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [shop]
    sql:
      statements: [select]
      read: [public.users, public.orders]
      functions: [count, sum, avg, min, max, lower, upper, length, coalesce, now, date_trunc, round, abs]
  - id: order-fixes-need-a-dba
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [shop]
    sql: { statements: [update], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, expires: 30m, wait: 1s }
  - id: no-schema-changes
    effect: deny
    tool: query_database
    sql: { statements: [drop, truncate, alter, grant, revoke] }
    reason: Schema changes go through migrations.
`;

const FIX = { connection: 'shop', sql: 'UPDATE orders SET total = 45.00 WHERE id = 1' };

const SCRIPT: { say: string; tool: string; args: Record<string, unknown> }[] = [
  { say: 'What may I reach?', tool: 'list_connections', args: {} },
  { say: 'An allowed read (emails and SSNs come back masked)', tool: 'query_database', args: { connection: 'shop', sql: 'SELECT u.name, u.email, u.ssn, count(o.id) AS orders FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id ORDER BY u.id' } },
  { say: 'A schema change (denied by a deny rule)', tool: 'query_database', args: { connection: 'shop', sql: 'DROP TABLE users' } },
  { say: 'The read-only bypass that beats other servers (denied: two statements)', tool: 'query_database', args: { connection: 'shop', sql: 'COMMIT; DROP TABLE users' } },
  { say: 'Something that is not SQL (refused by the parser)', tool: 'query_database', args: { connection: 'shop', sql: 'SELEC name FROM users WHERE' } },
  { say: 'A table outside the grant', tool: 'query_database', args: { connection: 'shop', sql: 'SELECT * FROM pg_catalog.pg_authid' } },
];

function textOf(r: { content?: unknown }): string {
  return ((r.content ?? []) as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');
}

/** Start the embedded database; returns its URL and a stopper. */
async function startEmbeddedDb(): Promise<{ url: string; stop(): Promise<void> }> {
  const db = await PGlite.create();
  await db.exec(SEED);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await server.start();
  const addr = (server as unknown as { server?: { address(): { port: number } } }).server?.address();
  const port = addr?.port ?? Number(/:(\d+)$/.exec(String((server as unknown as { getServerConn?: () => string }).getServerConn?.() ?? ''))?.[1]);
  if (!port) throw new Error('embedded database did not report its port');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/**
 * Write the demo's config and policy: into a temporary folder, or (`--config FILE`) as FILE with
 * its policies beside it, kept afterwards, so that a `--serve` demo can be reused and edited.
 * Nothing is overwritten: the demo writes only files that do not exist yet.
 */
function writeDemoConfig(dir: string, file = 'warden.yaml'): string {
  const configPath = join(dir, file);
  const policyPath = join(dir, 'policies', 'demo.yaml');
  for (const p of [configPath, policyPath]) if (existsSync(p)) throw new UsageError(`demo --config: ${p} exists; the demo writes only new files (pick another path)`);
  // Modes given, not left to the umask: Warden refuses a config others may write (shared-write.ts).
  mkdirSync(join(dir, 'policies'), { recursive: true, mode: 0o755 });
  writeFileSync(configPath, CONFIG, { mode: 0o644 });
  writeFileSync(policyPath, POLICY, { mode: 0o644 });
  return configPath;
}

const BIN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));

/** Run the demo. */
export async function runDemo(a: ParsedArgs, version: string): Promise<number> {
  // Each line ends with a newline of its own (a trailing '\n' in `s` is a blank line); hidden characters shown escaped.
  const out = (s: string) => stdoutLine(s + '\n');
  const keepAt = typeof a.flags.config === 'string' ? resolve(a.flags.config) : null;
  const dir = keepAt ? dirname(keepAt) : mkdtempSync(join(tmpdir(), 'warden-demo-'));
  const configPath = keepAt ? writeDemoConfig(dir, basename(keepAt)) : writeDemoConfig(dir);
  const db = await startEmbeddedDb();
  try {
    if (a.flags.serve) {
      const snippet = {
        mcpServers: {
          'warden-demo': { command: process.execPath, args: [BIN, 'serve', '--config', configPath], env: { WARDEN_DEMO_DATABASE_URL: db.url } },
        },
      };
      out(`Warden ${version} demo is serving. Embedded PostgreSQL on ${db.url.replace(/:[^:@/]*@/, ':***@')}`);
      out(`Config: ${configPath}\n\nPaste this into your MCP client's configuration (Claude Desktop: claude_desktop_config.json):\n`);
      out(jsonDoc(snippet, 2));
      // The reviewer UI reads the same transcript file the agent's Warden process writes.
      const store = openSqliteStore(join(dir, 'warden.db'));
      const ui = await startStandaloneUi({ store: store as unknown as UiStore, approvals: createApprovalService(store.approvals) }, { host: '127.0.0.1', port: 0 });
      out(`\nReviewer UI: ${ui.url}\nOne-time login link (10 minutes, this machine only): ${ui.loginUrl}`);
      out(`Transcripts: node ${BIN} transcripts list --config ${configPath}\nPress Ctrl-C to stop.`);
      await new Promise<void>((r) => {
        process.once('SIGINT', r);
        process.once('SIGTERM', r);
      });
      await ui.close();
      await store.close();
      return 0;
    }
    // --json: the same run, as one JSON document on stdout instead of the narrated transcript.
    const human = !a.flags.json;
    const say = human ? out : () => undefined;
    const doc: { version: string; tools: string[]; steps: Record<string, unknown>[]; approval: Record<string, unknown> | null; transcript: Record<string, unknown> | null } = { version, tools: [], steps: [], approval: null, transcript: null };
    say(`Warden ${version} demo: embedded PostgreSQL with users and orders, a demo policy, and a scripted agent.\n`);
    const client = new Client({ name: 'warden-demo-agent', version });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'serve', '--config', configPath],
      env: { ...process.env, WARDEN_DEMO_DATABASE_URL: db.url, WARDEN_LOG_LEVEL: 'error' } as Record<string, string>,
      stderr: 'inherit',
    });
    await client.connect(transport);
    const tools = await client.listTools();
    say(`agent sees tools: ${tools.tools.map((t) => t.name).join(', ')}\n`);
    doc.tools = tools.tools.map((t) => t.name);
    let failures = 0;
    for (const step of SCRIPT) {
      say(`── ${step.say}`);
      say(`agent> ${step.tool} ${JSON.stringify(step.args)}`);
      const r = await client.callTool({ name: step.tool, arguments: step.args });
      const text = textOf(r);
      say(text.split('\n').map((l) => `warden< ${l}`).join('\n') + '\n');
      doc.steps.push({ say: step.say, tool: step.tool, args: step.args, is_error: r.isError === true, text });
      if (step.tool === 'query_database' && step.args.sql === SCRIPT[1]!.args.sql && r.isError) failures++;
    }
    const store = openSqliteStore(join(dir, 'warden.db'));
    try {
      // A write that needs a human: held, approved by a DBA (as `warden approvals approve` would), then run once.
      say('── A write the policy holds for a DBA\'s approval');
      say(`agent> query_database ${JSON.stringify(FIX)}`);
      const held = await client.callTool({ name: 'query_database', arguments: FIX });
      doc.steps.push({ say: "A write the policy holds for a DBA's approval", tool: 'query_database', args: FIX, is_error: held.isError === true, text: textOf(held) });
      say(textOf(held).split('\n').map((l) => `warden< ${l}`).join('\n') + '\n');
      const approvalId = (held.structuredContent as { error?: { approval_id?: string } } | undefined)?.error?.approval_id;
      if (!approvalId) failures++;
      else {
        const reviewer = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' as const };
        await createApprovalService(store.approvals).approve(approvalId, reviewer, 'matches ticket OPS-42');
        say(`reviewer> warden approvals approve ${approvalId} --as dana --groups dba --comment "matches ticket OPS-42"\n`);
        say(`── The agent repeats the identical call: it runs, once`);
        say(`agent> query_database ${JSON.stringify(FIX)}`);
        doc.approval = { id: approvalId, reviewer: 'dana', groups: ['dba'], comment: 'matches ticket OPS-42' };
        const ran = await client.callTool({ name: 'query_database', arguments: FIX });
        doc.steps.push({ say: 'The agent repeats the identical call: it runs, once', tool: 'query_database', args: FIX, is_error: ran.isError === true, text: textOf(ran) });
        say(textOf(ran).split('\n').map((l) => `warden< ${l}`).join('\n') + '\n');
        if (ran.isError) failures++;
      }
      await client.close();
      say('── The transcript of this session (warden transcripts show):');
      const sessions = await store.listSessions({ limit: 1 });
      const id = sessions[0]?.id;
      if (id && human) await runTranscriptsCommand(['show', id], { store, json: false, out, err: stderrLine });
      const v = await store.verify();
      say(`\nhash chain: ${v.ok ? 'intact' : 'BROKEN'} (${v.records} records)`);
      doc.transcript = { session_id: id ?? null, chain_intact: v.ok, records: v.records };
    } finally {
      await store.close();
    }
    if (human) out(`\nNext: \`npx warden demo --serve\` to connect your own agent; see README.md for configuration.`);
    else out(jsonDoc({ ...doc, ok: failures === 0 }, 2));
    return failures ? 1 : 0;
  } finally {
    await db.stop().catch(() => undefined);
    if (!a.flags.serve && !a.flags.keep && !keepAt) rmSync(dir, { recursive: true, force: true });
  }
}
