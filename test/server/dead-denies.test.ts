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

const MIXED = `transcripts: { store: sqlite:warden.db }
connections:
  shop: { type: postgres, url: env:UNUSED_SHOP_URL }
  web-1: { type: ssh, host: 10.0.0.5, user: deploy, private_key: file:/k, host_key: "SHA256:lTftO+26+9iM5c8NlMGDjFpORdDwtp1/tKI3rbA39LU" }
policies: [policies/*.yaml]
`;

test('serve refuses a deny that can never match: a connection no listed tool serves, a block of another family, a block no tool on its connections reads', async () => {
  const cases = [
    // web-1 taken for the database: the deny names a real connection, but query_database never runs there.
    ['{ id: no-drops, effect: deny, tool: query_database, on: [web-1], sql: { statements: [drop] } }', /rule no-drops: can never match on web-1/],
    // rm meant for the database tool: a shell: block judges no query_database call.
    ['{ id: no-rm, effect: deny, tool: query_database, shell: { programs: { rm: {} } } }', /rule no-rm: can never match: a shell: block/],
    // No tool named, but sql: judges only query_database, which does not serve the SSH host.
    ['{ id: no-drops-there, effect: deny, on: [web-1], sql: { statements: [drop] } }', /rule no-drops-there: can never match on web-1/],
  ] as const;
  for (const [rule, what] of cases) {
    const dir = writeWardenDir(MIXED, { 'a.yaml': `rules:\n  - ${rule}\n` });
    try {
      await assert.rejects(startRuntime(dir.configPath, families), (e: unknown) => e instanceof ConfigError && what.test(e.message) && /would deny nothing/.test(e.message), String(what));
    } finally {
      dir.cleanup();
    }
  }
  // Still loads: each block judges a call on a connection its tools serve.
  const dir = writeWardenDir(MIXED, { 'a.yaml': 'rules:\n  - { id: ok-sql, effect: deny, on: [shop], sql: { statements: [drop] } }\n  - { id: ok-shell, effect: deny, on: [web-1], shell: { programs: { rm: {} } } }\n' });
  try {
    const rt = await startRuntime(dir.configPath, families);
    await rt.close();
  } finally {
    dir.cleanup();
  }
});
