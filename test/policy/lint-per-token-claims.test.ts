/**
 * `claims:` naming a per-token claim (`jti`, `sid`, `exp`, ...) is a policy check error at its
 * line, on an allow's `who:`, a deny's and approval reviewers alike: the principal never carries
 * such a claim (identity/claims.ts), so the entry matches no token. Other claims are not flagged.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { families } from '../../tools/index.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { compileForConfig } from '../../src/server/runtime.js';
import { offlineFamilies } from '../../src/policy/explain.js';
import { lintPolicy } from '../../src/policy/lint.js';
import { principalClaims } from '../../src/identity/claims.js';
import { PER_TOKEN_CLAIMS } from '../../src/config/schema-parts.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-lint-per-token-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a per-token claim in who.claims or reviewers.claims is an error at its key; an ordinary claim is not', () => {
  writeFileSync(join(dir, 'warden.yaml'), 'connections:\n  analytics: { type: postgres, url: env:DB }\npolicies: [p.yaml]\n');
  writeFileSync(join(dir, 'p.yaml'), `rules:
  - id: read
    effect: allow
    who: { groups: [ci], claims: { repository: acme/shop, nonce: n-1 } }
    tool: query_database
    on: [analytics]
    sql: { read: [public.t] }
    approval: { reviewers: { claims: { sid: s-1 } } }
  - id: revoke
    effect: deny
    who: { claims: { jti: leaked-1 } }
    tool: query_database
`);
  const config = loadServerConfig(join(dir, 'warden.yaml'), families);
  const ps = lintPolicy({ policy: compileForConfig(config, families), connections: config.connections, families: offlineFamilies(families, config.connections), builtins: ['list_connections'] });
  const found = ps.filter((p) => /per-token claim/.test(p.message));
  assert.deepEqual(found.map((p) => `${p.path}@${p.line}:${p.severity}`).sort(), ['rules.0.approval.reviewers.claims.sid@8:error', 'rules.0.who.claims.nonce@4:error', 'rules.1.who.claims.jti@11:error'], ps.map((p) => `${p.path}: ${p.message}`).join('\n'));
  assert.ok(found.every((p) => /can never match: claims\.\w+ is a per-token claim/.test(p.message)));
});

test('the list the linter refuses is exactly what the principal drops', () => {
  const payload = Object.fromEntries([...PER_TOKEN_CLAIMS, 'repository', 'azp', 'acr'].map((k) => [k, 'v']));
  assert.deepEqual(Object.keys(principalClaims(payload)).sort(), ['acr', 'azp', 'repository']);
});
