/**
 * Helpers for the approval tests: the reviewer CLI as a second process, a local webhook receiver
 * that fails first, and a polling wait.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import type { Decision } from '../../src/policy/types.js';
import type { ChainSigner } from '../../src/recorder/signing.js';
import type { Principal } from '../../src/tool-api.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import type { TestDatabase } from '../support/pg-cluster.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { createOidcVerifier } from '../../src/identity/oidc.js';

/** The result of one CLI run. */
export interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

const MAIN_JS = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const COMMAND_JS = join(REPO_ROOT, 'dist', 'src', 'cli', 'approvals-command.js');

/** Whether `warden approvals` is wired into the bin; until then the exported command runs in its own process. */
export function binHasApprovals(): boolean {
  return existsSync(MAIN_JS) && readFileSync(MAIN_JS, 'utf8').includes('runApprovalsCommand');
}

/** Run `warden approvals ARGS` in a second process (the reviewer). */
export function approvalsCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const argv = binHasApprovals()
    ? [WARDEN_BIN, 'approvals', ...args]
    : [
        '--input-type=module',
        '-e',
        'const m = await import(process.argv[1]); process.exitCode = await m.runApprovalsCommand(process.argv.slice(2));',
        pathToFileURL(COMMAND_JS).href,
        ...args,
      ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Poll until fn returns a value (not undefined), or fail after timeoutMs. */
export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A local webhook receiver: answers 500 to the first `failFirst` requests, then 200. */
export interface Receiver {
  url: string;
  hits: { status: number; body: string; at: number }[];
  close(): Promise<void>;
}

/** Start a receiver on a random loopback port. */
export async function startReceiver(failFirst = 1): Promise<Receiver> {
  const hits: Receiver['hits'] = [];
  let failures = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      // Decoded whole: a character split between two chunks stays one character.
      const body = Buffer.concat(chunks).toString('utf8');
      const status = failures < failFirst ? 500 : 200;
      if (status === 500) failures++;
      hits.push({ status, body, at: Date.now() });
      res.writeHead(status).end(status === 200 ? 'ok' : 'try again');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}/hook`, hits, close: () => new Promise((r) => server.close(() => r())) };
}

/** The transcript's records (JSON Lines from `warden transcripts export --config configPath`). */
export function transcriptRecords(configPath: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WARDEN_BIN, 'transcripts', 'export', '--config', configPath], {
      env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`transcripts export exited ${code}: ${err}`));
      resolve(out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
    });
  });
}

/** The transcript's records of the call (or approval) whose records mention `needle`: every record with the same ref id. */
export async function recordsMentioning(configPath: string, needle: string): Promise<Record<string, unknown>[]> {
  const all = await transcriptRecords(configPath);
  const refs = new Set(all.filter((r) => JSON.stringify(r.body).includes(needle)).map((r) => r.ref_id));
  return all.filter((r) => refs.has(r.ref_id));
}

/**
 * The refused call's transcript: exactly one `call_outcome` for the call whose arguments mention
 * `needle`, carrying `code` and not `ok` (polled: the outcome lands just after the answer).
 */
export async function refusedOutcome(configPath: string, needle: string, code: string): Promise<string> {
  const recs = await until(async () => {
    const r = await recordsMentioning(configPath, needle);
    return r.some((x) => x.kind === 'call_outcome') ? r : undefined;
  }, 10_000, `the transcript record of the refused call (${needle})`);
  const outcomes = recs.filter((x) => x.kind === 'call_outcome').map((x) => JSON.stringify(x.body));
  if (outcomes.length !== 1) throw new Error(`expected one call_outcome for ${needle}: ${outcomes.join('\n')}`);
  const o = outcomes[0]!;
  if (!o.includes(`"${code}"`) || o.includes('"status":"ok"')) throw new Error(`the outcome of ${needle} is not a ${code} refusal: ${o}`);
  return o;
}

/** The approval_event records of one request, as `event` (a decision as its `decision`), in order. */
export async function approvalEvents(configPath: string, id: string): Promise<Record<string, unknown>[]> {
  return (await recordsMentioning(configPath, id)).filter((x) => x.kind === 'approval_event' && x.ref_id === id).map((x) => x.body as Record<string, unknown>);
}

/**
 * warden.yaml of the approval end-to-end tests: a stdio identity `sam` in `groups`, structured
 * results, one PostgreSQL connection `shop` on TEST_DATABASE_URL, policies from policies/*.yaml.
 */
export function shopConfig(groups: string[] = ['sre']): string {
  return `
transcripts: { store: sqlite:warden.db }
responses: { structured_content: true }
identity: { stdio: { subject: sam, groups: [${groups.join(', ')}] } }
connections:
  shop: { type: postgres, url: env:TEST_DATABASE_URL, statement_timeout: 5s, max_rows: 100 }
policies: [policies/*.yaml]
`;
}

/** An allow decision of rule orders-fix that needs one approval by group dba (the reviewer CLI tests). */
const ORDERS_FIX: Decision = {
  effect: 'allow', ruleIds: ['orders-fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 30 * 60_000, wait: 0, ruleId: 'orders-fix' },
};

/** A fresh pending request from sam (group sre) for `sql` on connection db, written to the store at `dbPath`; its id. */
export async function pendingCliRequest(dbPath: string, sql: string, authMethod: Principal['authMethod'] = 'stdio', signer?: ChainSigner): Promise<string> {
  const store = openSqliteStore(dbPath, signer ? { signer } : {});
  try {
    const r = await createApprovalService(store.approvals).gate({
      callId: `call-${Math.random()}`, sessionId: 's1', principal: { subject: 'sam', groups: ['sre'], claims: {}, authMethod },
      tool: 'query_database', connection: 'db', canonicalArgs: { connection: 'db', sql }, decision: ORDERS_FIX, factsSummary: sql, signal: new AbortController().signal,
    });
    assert.equal(r.granted, false);
    return (r as { approvalId: string }).approvalId;
  } finally {
    await store.close();
  }
}

/** `warden approvals show ID --json` through the real CLI. */
export async function cliShow(configPath: string, id: string): Promise<{ state: string; decisions: { reviewer: string; auth: string }[] }> {
  const r = await approvalsCli(['show', id, '--json', '--config', configPath]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as { state: string; decisions: { reviewer: string; auth: string }[] };
}

/** Rule orders-fix as a policy file: group sre may UPDATE public.orders on db, with one approval by group dba. */
export const ORDERS_FIX_POLICY = 'rules:\n  - id: orders-fix\n    effect: allow\n    who: { groups: [sre] }\n    tool: query_database\n    on: [db]\n    sql: { statements: [update], write: [public.orders] }\n    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 0s }\n';

/**
 * The reviewer CLI tests' setup: a real OIDC issuer and a config folder whose warden.yaml trusts it
 * (`oidcExtra` is added inside identity.oidc's braces, e.g. `, required_scopes: [warden.review]`;
 * `extra` is top-level YAML), with the orders-fix rule. Stop the issuer and clean the folder after.
 */
export async function reviewerCliSetup(oidcExtra = '', extra = ''): Promise<{ issuer: OidcIssuer; dir: WardenDir }> {
  const issuer = await startOidcIssuer();
  const dir = writeWardenDir(
    `transcripts: { store: sqlite:warden.db }
identity:
  oidc: { issuer: ${issuer.issuer}, audience: ${issuer.audience}, groups_claim: groups${oidcExtra} }
${extra}connections:
  db: { type: postgres, url: env:UNUSED_URL }
policies: [policies/*.yaml]
`,
    { 'p.yaml': ORDERS_FIX_POLICY },
  );
  return { issuer, dir };
}

const MINUTE = 60_000;
/** The deny-cooldown tests' requester (sre) and reviewer (dba), and a decision whose approval cools down 10 minutes. */
export const cooldownSam: Principal = { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'local' };
export const cooldownDana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };
export const cooldownDecision: Decision = {
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 60 * MINUTE, wait: 0, ruleId: 'fix', deny_cooldown: 10 * MINUTE },
};

/** A gate's decision of rule `fix`: one reviewer of group dba, an hour to decide, no wait. */
export const FIX_DECISION: Decision = {
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 3_600_000, wait: 0, ruleId: 'fix', deny_cooldown: 600_000 },
};

/** The principal a Warden trusting `iss` makes of a token `iss` minted with `claims`. */
export async function principalOf(iss: OidcIssuer, claims: Record<string, unknown>): Promise<Principal> {
  const v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, jwks_cooldown_ms: 0 });
  return (await v.verify(await iss.mint(claims))).principal;
}

/**
 * Two OIDC issuers for a test file: started before its tests and handed to `got`, stopped after
 * them, with `dbs` (the databases its tests created) dropped. Why shared: the identity-binding
 * tests (one person under two issuers) each started and stopped them alike.
 */
export function twoIssuers(got: (a: OidcIssuer, b: OidcIssuer) => void, dbs: TestDatabase[] = []): void {
  let a: OidcIssuer | undefined;
  let b: OidcIssuer | undefined;
  before(async () => {
    a = await startOidcIssuer();
    b = await startOidcIssuer();
    got(a, b);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    for (const db of dbs) await db.drop();
  });
}
