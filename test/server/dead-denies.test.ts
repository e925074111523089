/**
 * A deny rule naming a tool or connection this server does not have would deny nothing: serve
 * refuses it at start and on reload (the running policy stays), as policy check reports it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRuntime } from '../../src/server/runtime.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { families } from '../../tools/index.js';
import { writeWardenDir } from '../support/warden-process.js';

const CONFIG = 'transcripts: { store: sqlite:warden.db }\nconnections:\n  shop: { type: postgres, url: env:UNUSED_SHOP_URL }\npolicies: [policies/*.yaml]\n';
const deny = (tool: string, on: string) => `rules:\n  - { id: no-drops, effect: deny, tool: ${tool}, on: [${on}], sql: { statements: [drop] } }\n`;

test('serve refuses a deny that names an unknown tool or connection, at start and on reload', async () => {
  for (const [tool, on, what] of [['query_databse', 'shop', 'unknown tool "query_databse"'], ['query_database', 'shopp', 'unknown connection "shopp"']] as const) {
    const dir = writeWardenDir(CONFIG, { 'a.yaml': deny(tool, on) });
    try {
      await assert.rejects(startRuntime(dir.configPath, families), (e: unknown) => e instanceof ConfigError && e.message.includes(what) && /would deny nothing/.test(e.message), what);
    } finally {
      dir.cleanup();
    }
  }
  const dir = writeWardenDir(CONFIG, { 'a.yaml': deny('query_database', 'shop') });
  const rt = await startRuntime(dir.configPath, families);
  try {
    const v0 = rt.policy().version;
    writeFileSync(join(dir.dir, 'policies', 'a.yaml'), deny('query_database', 'shopp'));
    assert.throws(() => rt.reload(), (e: unknown) => e instanceof ConfigError && /unknown connection "shopp"/.test(e.message));
    assert.equal(rt.policy().version, v0, 'the running policy stays');
  } finally {
    await rt.close();
    dir.cleanup();
  }
});
