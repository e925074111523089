/**
 * End to end: cloud and SaaS credentials stored in a real PostgreSQL table (an integrations table
 * as applications keep one: connection strings, API keys, a jsonb service-account document)
 * come back from query_database masked by the content detectors of src/masking/service-tokens.ts,
 * labels and identifiers kept; an SSN written with spaces too. Tokens are built at run time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';

const CONFIG = `
transcripts: { store: sqlite:warden.db }
responses: { structured_content: true }
identity: { stdio: { subject: ana, groups: [analysts] } }
connections:
  app:
    type: postgres
    url: env:TEST_DATABASE_URL
    statement_timeout: 2s
policies: [policies/*.yaml]
`;

const POLICY = `
masking:
  detectors: [private_key, us_ssn, azure_storage_key, sendgrid_key, twilio_key, vault_token, databricks_token]
rules:
  - id: read-integrations
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [app]
    sql: { statements: [select], read: [public.integrations] }
`;

const b64 = (n: number): string => Buffer.from(Array.from({ length: n }, (_, i) => (i * 53 + 7) & 255)).toString('base64');
const b64u = (n: number): string => 'Zx-9_Qw7Er'.repeat(Math.ceil(n / 10)).slice(0, n);
const hex = (n: number): string => '9f8e7d6c5b4a3210'.repeat(Math.ceil(n / 16)).slice(0, n);

const ACCOUNT_KEY = b64(64);
const SENDGRID = `SG.${b64u(22)}.${b64u(43)}`;
const TWILIO_SID = `AC${hex(32)}`;
const TWILIO_TOKEN = hex(32).split('').reverse().join('');
const VAULT = `hvs.${b64u(90)}`;
const DATABRICKS = `dapi${hex(32)}`;
const KEY_BODY = b64(600);

let db: TestDatabase;
let dir: WardenDir;
let w: WardenSession;

before(async () => {
  db = await createTestDatabase({ prefix: 'svctok' });
  await db.query(`CREATE TABLE integrations (id int PRIMARY KEY, name text, secret text, doc jsonb)`);
  const sa = { type: 'service_account', project_id: 'acme', private_key: `-----BEGIN PRIVATE KEY-----\n${KEY_BODY.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n` };
  await db.query(
    `INSERT INTO integrations VALUES
       (1, 'azure', $1, NULL), (2, 'sendgrid', $2, NULL), (3, 'twilio', $3, NULL),
       (4, 'vault', $4, NULL), (5, 'databricks', $5, NULL), (6, 'gcp', NULL, $6::jsonb), (7, 'hr', 'ssn 536 22 1234', NULL)`,
    [
      `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${ACCOUNT_KEY};EndpointSuffix=core.windows.net`,
      SENDGRID,
      `${TWILIO_SID}:${TWILIO_TOKEN}`,
      VAULT,
      DATABRICKS,
      JSON.stringify(sa),
    ],
  );
  await db.query(`ALTER TABLE integrations OWNER TO ${db.role}`);
  await db.query(`GRANT USAGE ON SCHEMA public TO ${db.role}`);
  dir = writeWardenDir(CONFIG, { 'base.yaml': POLICY });
  w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: db.url });
});

after(async () => {
  await w?.close();
  await db?.drop();
  dir?.cleanup();
});

describe('service-token detectors over query_database', () => {
  test('credentials in text and jsonb cells come back masked, labels kept', async () => {
    const r = await w.call('query_database', { connection: 'app', sql: 'SELECT id, name, secret, doc FROM integrations ORDER BY id' });
    assert.equal(r.isError, false, r.text);
    const s = r.structured as { rows: unknown[][] };
    const all = `${r.text}\n${JSON.stringify(s)}`;
    for (const secret of [ACCOUNT_KEY.slice(0, 40), SENDGRID, TWILIO_TOKEN, VAULT, DATABRICKS, KEY_BODY.slice(0, 40), '536 22 1234']) {
      assert.ok(!all.includes(secret), `result leaks ${secret.slice(0, 12)}...`);
    }
    assert.equal(s.rows[0]![2], 'DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=[azure_storage_key];EndpointSuffix=core.windows.net');
    assert.equal(s.rows[1]![2], '[sendgrid_key]');
    assert.equal(s.rows[2]![2], `${TWILIO_SID}:[twilio_key]`);
    assert.equal(s.rows[3]![2], '[vault_token]');
    assert.equal(s.rows[4]![2], '[databricks_token]');
    assert.match(JSON.stringify(s.rows[5]![3]), /"private_key":\s*"\[private_key\]\\n"/);
    assert.equal(s.rows[6]![2], 'ssn [us_ssn]');
  });
});
