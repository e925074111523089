import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadServerConfig } from '../../src/config/server-config.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { startRuntime } from '../../src/server/runtime.js';
import { openConfiguredStore } from '../../src/server/store-open.js';
import { LIVENESS_GRACE_MS } from '../../src/recorder/pg-liveness-sql.js';
import type { PgTranscriptStore } from '../../src/recorder/index.js';
import { families } from '../../tools/index.js';
import { createTestDatabase } from '../support/pg-cluster.js';
import { writeWardenDir } from '../support/warden-process.js';

const config = (transcripts: string) => `transcripts: { ${transcripts} }\nconnections: {}\npolicies: [policies/*.yaml]\n`;

test('transcripts.liveness_grace: a duration between 1s and 5m, 5s by default (the store\'s own default)', (t) => {
  const dir = writeWardenDir(config('store: sqlite:warden.db'), { 'p.yaml': 'rules: []\n' });
  t.after(dir.cleanup);
  const load = (text: string) => loadServerConfig(dir.configPath, families, text);
  assert.equal(load(config('store: sqlite:warden.db')).transcripts.liveness_grace, LIVENESS_GRACE_MS);
  assert.equal(load('policies: [policies/*.yaml]\n').transcripts.liveness_grace, LIVENESS_GRACE_MS);
  assert.equal(load(config('store: sqlite:warden.db, liveness_grace: 30s')).transcripts.liveness_grace, 30_000);
  for (const [bad, why] of [['500ms', /between 1s and 5m/], ['10m', /between 1s and 5m/], ['5', /duration/]] as const) {
    assert.throws(() => load(config(`store: sqlite:warden.db, liveness_grace: ${bad}`)), (e: unknown) => e instanceof ConfigError && why.test(e.message), bad);
  }
});

test('the PostgreSQL store of serve and of the CLI takes transcripts.liveness_grace', async (t) => {
  const db = await createTestDatabase({ prefix: 'grace' });
  t.after(() => db.drop());
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  process.env.WARDEN_GRACE_STORE_URL = db.url;
  t.after(() => delete process.env.WARDEN_GRACE_STORE_URL);
  const dir = writeWardenDir(config('store: env:WARDEN_GRACE_STORE_URL, liveness_grace: 42s'), { 'p.yaml': 'rules: []\n' });
  t.after(dir.cleanup);
  const rt = await startRuntime(dir.configPath, families);
  try {
    assert.equal((rt.store as unknown as PgTranscriptStore).livenessGraceMs, 42_000);
  } finally {
    await rt.close();
  }
  const cli = (await openConfiguredStore(loadServerConfig(dir.configPath, families))) as PgTranscriptStore;
  try {
    assert.equal(cli.kind, 'postgres');
    assert.equal(cli.livenessGraceMs, 42_000);
  } finally {
    await cli.close();
  }
});
