/**
 * An approval request that expires unused sends one `expired` notice: signed, carrying the seq of
 * its hash-chained `expired` record, exactly once although two replicas on one PostgreSQL store
 * sweep expiry at the same moment (each gated call sweeps first). Real OIDC tokens, real MCP
 * clients over Streamable HTTP, real replica processes; `transcripts verify` replays the record.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectHttpAgent } from '../support/http-agent.js';
import { POLICY, startReplicaPair, wardenCli, type ReplicaPair } from './support.js';

interface Delivered {
  n: { event: string; seq: number; approval: { id: string; state: string } };
  signed: boolean;
}

const SECRET = 'expired-notice-secret';
let fleet: ReplicaPair;
let server: Server;
let secretDir: string;
const delivered: Delivered[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      const ts = String(req.headers['webhook-timestamp']);
      const expect = `v1,${createHmac('sha256', Buffer.from(SECRET)).update(`${id}.${ts}.${body}`).digest('base64')}`;
      delivered.push({ n: JSON.parse(body) as Delivered['n'], signed: req.headers['webhook-signature'] === expect });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  secretDir = mkdtempSync(join(tmpdir(), 'warden-hook-'));
  writeFileSync(join(secretDir, 'secret'), SECRET);
  const policy = POLICY.replace(
    'approvals: 1, expires: 10m, wait: 30s }',
    `approvals: 1, expires: 4s, wait: 1s, notify: { webhook: "${url}", format: json, secret: "file:${join(secretDir, 'secret')}" } }`,
  );
  assert.notEqual(policy, POLICY);
  fleet = await startReplicaPair('whexp', '', policy);
});

after(async () => {
  await fleet?.stop();
  await new Promise<void>((r) => server.close(() => r()));
  if (secretDir) rmSync(secretDir, { recursive: true, force: true });
});

test('a request that expires unused sends one signed `expired` notice with its record\'s seq, once across replicas', async () => {
  const { storeDb, issuer, dir, env, replicas: [a, b] } = fleet;
  const token = (sub: string) => issuer.mint({ sub, groups: ['dev'], scope: 'mcp' });
  const alice = await connectHttpAgent(a.url, await token('alice'));
  let first: string;
  try {
    const r = await alice.call('query_database', { connection: 'target', sql: 'UPDATE items SET n = 4000 WHERE id = 4' });
    assert.match(r.text, /^WARDEN_APPROVAL_PENDING/, r.text);
    first = delivered.find((d) => d.n.event === 'requested')?.n.approval.id ?? '';
    for (let i = 0; i < 50 && !first; i++) {
      await new Promise((res) => setTimeout(res, 100));
      first = delivered.find((d) => d.n.event === 'requested')?.n.approval.id ?? '';
    }
    assert.ok(first, 'the `requested` notice arrived');
  } finally {
    await alice.close();
  }
  // Past its expiry, both replicas take gated calls at once: each sweeps expiry before it gates.
  await new Promise((res) => setTimeout(res, 5000));
  const agents = await Promise.all([a, b, a, b].map(async (rep, i) => connectHttpAgent(rep.url, await token(`carol${i}`))));
  try {
    const rs = await Promise.all(agents.map((g, i) => g.call('query_database', { connection: 'target', sql: `UPDATE items SET n = ${5000 + i} WHERE id = ${10 + i}` })));
    for (const r of rs) assert.match(r.text, /^WARDEN_APPROVAL_PENDING/, r.text);
  } finally {
    await Promise.all(agents.map((g) => g.close()));
  }
  for (let i = 0; i < 50 && !delivered.some((d) => d.n.event === 'expired'); i++) await new Promise((res) => setTimeout(res, 100));
  await new Promise((res) => setTimeout(res, 1000));
  const expired = delivered.filter((d) => d.n.event === 'expired' && d.n.approval.id === first);
  assert.equal(expired.length, 1, `one \`expired\` notice: ${JSON.stringify(delivered.map((d) => [d.n.event, d.n.approval.id]))}`);
  assert.equal(expired[0]!.signed, true, 'the notice is signed with the rule\'s secret');
  assert.equal(expired[0]!.n.approval.state, 'expired');
  const records = (await storeDb.query(`SELECT seq, body FROM records WHERE kind = 'approval_event' AND ref_id = $1 ORDER BY seq`, [first])).rows as { seq: string; body: string }[];
  const ex = records.filter((r) => (JSON.parse(r.body) as { event: string }).event === 'expired');
  assert.equal(ex.length, 1, 'one `expired` record');
  assert.equal(expired[0]!.n.seq, Number(ex[0]!.seq), 'the notice carries its record\'s seq');
  const v = await wardenCli(['transcripts', 'verify', '--json', '--config', dir.configPath], env);
  assert.equal(v.code, 0, v.out + v.err);
});
