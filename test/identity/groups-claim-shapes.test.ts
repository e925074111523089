/**
 * Red-team pass on the groups claim and the token payload: a shape Warden cannot read
 * definitively (an object map of groups, a list holding objects, a string that reads as several
 * groups, a payload that names a claim twice) is refused, never read as "no group", since a deny
 * on group `contractors` must not miss a contractor. Real signed tokens from a local issuer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactSign } from 'jose';
import { createOidcVerifier, type TokenVerifier } from '../../src/identity/oidc.js';
import { groupsFromClaims } from '../../src/identity/claims.js';
import { verifierFromConfig } from '../../src/server/http-verifier.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { WardenError } from '../../src/errors.js';
import { families } from '../../tools/index.js';
import { startOidcIssuer, unauthenticated, type OidcIssuer } from '../support/oidc-issuer.js';

let iss: OidcIssuer;
let v: TokenVerifier;

before(async () => {
  iss = await startOidcIssuer();
  v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, jwks_cooldown_ms: 0 });
});
after(() => iss?.stop());

/** The refusal of a groups claim (WARDEN_UNAUTHENTICATED, reason claims), its message checked. */
function refusesGroups(payload: Record<string, unknown>, claim = 'groups', mode?: 'refuse' | 'whole' | 'split', why = /groups claim/): void {
  assert.throws(
    () => groupsFromClaims(payload, claim, mode),
    (e: unknown) => e instanceof WardenError && e.code === 'WARDEN_UNAUTHENTICATED' && e.details.reason === 'claims' && why.test(e.message),
    JSON.stringify(payload),
  );
}

/** A token signed by the issuer's current key over exactly these payload bytes (duplicate keys and all). */
async function signRaw(json: string): Promise<string> {
  const key = iss.current();
  return new CompactSign(new TextEncoder().encode(json)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
}

function basics(): string {
  const now = Math.floor(Date.now() / 1000);
  return `"iss":${JSON.stringify(iss.issuer)},"aud":${JSON.stringify(iss.audience)},"iat":${now},"exp":${now + 300}`;
}

describe('groups claim shapes', () => {
  test('an object map of groups is refused, not read as no group', () => {
    refusesGroups({ groups: { admins: true, contractors: true } }, 'groups', undefined, /object/);
    refusesGroups({ groups: { contractors: { since: 2024 } } });
    refusesGroups({ realm_access: { roles: { contractors: true } } }, 'realm_access.roles');
  });

  test('a distributed groups claim (Entra ID overage: _claim_names, no groups) is refused, not read as no group', () => {
    const overage = { _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph.example/groups' } } };
    refusesGroups(overage, 'groups', undefined, /distributed/);
    refusesGroups({ _claim_names: { realm_access: 'src1' } }, 'realm_access.roles', undefined, /distributed/);
    // Another claim distributed, or the groups carried as well: read as usual.
    assert.deepEqual(groupsFromClaims({ _claim_names: { other: 'src1' } }, 'groups'), []);
    assert.deepEqual(groupsFromClaims({ ...overage, groups: ['staff'] }, 'groups'), ['staff']);
  });

  test('a list with an item that is no group name (object, boolean, null, fraction, list) is refused', () => {
    for (const bad of [{ name: 'contractors' }, true, null, 1.5, ['contractors']]) refusesGroups({ groups: ['staff', bad] }, 'groups', undefined, /item/);
  });

  test('a boolean or a fraction as the whole claim is refused; absent, null and empty are no group', () => {
    for (const bad of [true, false, 1.5]) refusesGroups({ groups: bad });
    assert.deepEqual(groupsFromClaims({}, 'groups'), []);
    // JSON null holds no name a deny could look for (serialisers write it for an unset field).
    assert.deepEqual(groupsFromClaims({ groups: null }, 'groups'), []);
    assert.deepEqual(groupsFromClaims({ groups: [] }, 'groups'), []);
    assert.deepEqual(groupsFromClaims({ groups: '' }, 'groups'), []);
  });

  test('a dotted path through a value that is not an object is refused; a missing step is no group', () => {
    refusesGroups({ realm_access: 'contractors' }, 'realm_access.roles', undefined, /realm_access/);
    refusesGroups({ realm_access: [{ roles: ['contractors'] }] }, 'realm_access.roles');
    assert.deepEqual(groupsFromClaims({ realm_access: {} }, 'realm_access.roles'), []);
    assert.deepEqual(groupsFromClaims({ other: 1 }, 'realm_access.roles'), []);
  });

  test('a single string holding whitespace, commas or semicolons is refused by default', () => {
    for (const s of ['staff contractors', 'staff,contractors', 'staff;contractors', 'staff\tcontractors', 'staff\u00a0contractors', ' contractors']) refusesGroups({ groups: s }, 'groups', undefined, /groups_string/);
    refusesGroups({ groups: 'staff contractors' }, 'groups', 'refuse');
  });

  test('groups_string: split reads each word as a group; whole reads the string as one group name', () => {
    assert.deepEqual(groupsFromClaims({ groups: ' staff, contractors;ops  staff' }, 'groups', 'split'), ['staff', 'contractors', 'ops']);
    assert.deepEqual(groupsFromClaims({ groups: 'Domain Admins' }, 'groups', 'whole'), ['Domain Admins']);
    // A list is definitive: its items are never split, whatever the setting.
    assert.deepEqual(groupsFromClaims({ groups: ['Domain Admins', 'staff'] }, 'groups', 'split'), ['Domain Admins', 'staff']);
    // The setting does not make an object readable.
    refusesGroups({ groups: { contractors: true } }, 'groups', 'split');
    refusesGroups({ groups: { contractors: true } }, 'groups', 'whole');
  });

  test('plain shapes read as before: strings and integer ids, deduplicated', () => {
    assert.deepEqual(groupsFromClaims({ groups: ['a', 'b', 'a', 3, ''] }, 'groups'), ['a', 'b', '3']);
    assert.deepEqual(groupsFromClaims({ groups: 'contractors' }, 'groups'), ['contractors']);
    assert.deepEqual(groupsFromClaims({ groups: 1001 }, 'groups'), ['1001']);
  });
});

describe('the verifier refuses what it cannot read', () => {
  test('a signed token whose groups claim is an object map is refused with reason claims', async () => {
    const e = await unauthenticated(v.verify(await iss.mint({ sub: 'carol', groups: { staff: true, contractors: true } })));
    assert.equal(e.details.reason, 'claims');
    assert.match(e.message, /groups claim/);
    assert.doesNotMatch(e.message, /contractors/, 'the refusal names the shape, not the groups');
  });

  test('a signed token whose groups claim is "staff contractors" is refused by default and split when configured', async () => {
    const t = await iss.mint({ sub: 'carol', groups: 'staff contractors' });
    assert.equal((await unauthenticated(v.verify(t))).details.reason, 'claims');
    const split = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, groups_string: 'split' });
    assert.deepEqual((await split.verify(t)).principal.groups, ['staff', 'contractors']);
  });

  test('a sub that is missing, empty or not a string is refused', async () => {
    for (const sub of [123, ['alice'], { id: 'alice' }, '', null, true]) {
      const e = await unauthenticated(v.verify(await iss.mint({ sub } as never)));
      assert.equal(e.details.reason, 'claims', JSON.stringify(sub));
    }
  });

  test('a payload that names a claim twice is refused, at the top level and nested', async () => {
    const top = await signRaw(`{${basics()},"sub":"carol","groups":["contractors"],"groups":["staff"]}`);
    const e = await unauthenticated(v.verify(top));
    assert.equal(e.details.reason, 'malformed');
    assert.match(e.message, /twice/);
    const nested = await signRaw(`{${basics()},"sub":"carol","realm_access":{"roles":["contractors"],"roles":["staff"]}}`);
    assert.equal((await unauthenticated(v.verify(nested))).details.reason, 'malformed');
    const sub = await signRaw(`{${basics()},"sub":"mallory","sub":"alice"}`);
    assert.equal((await unauthenticated(v.verify(sub))).details.reason, 'malformed');
    // The same names in different objects, and escaped spellings that differ, are no duplicates...
    const fine = await signRaw(`{${basics()},"sub":"carol","a":{"sub":"x"},"b":[{"k":1},{"k":2}],"groups":["g\\u0020h"]}`);
    assert.equal((await v.verify(fine)).principal.subject, 'carol');
    // ...but an escaped spelling of the same name is.
    const escaped = await signRaw(`{${basics()},"sub":"carol","groups":["staff"],"\\u0067roups":["contractors"]}`);
    assert.equal((await unauthenticated(v.verify(escaped))).details.reason, 'malformed');
  });
});

test('warden.yaml: groups_string is refuse, whole or split (default refuse) and reaches the verifier', () => {
  const yaml = (extra: string) => `identity:\n  oidc:\n    issuer: https://idp.example\n    audience: warden\n${extra}policies: []\n`;
  const c = loadServerConfig('/x/warden.yaml', families, yaml('    groups_string: split\n'));
  assert.equal(verifierFromConfig({ config: c }).options.groups_string, 'split');
  const d = loadServerConfig('/x/warden.yaml', families, yaml(''));
  assert.equal(verifierFromConfig({ config: d }).options.groups_string, 'refuse');
  assert.throws(() => loadServerConfig('/x/warden.yaml', families, yaml('    groups_string: comma\n')), (e: unknown) => e instanceof ConfigError && e.problems.some((p) => /groups_string/.test(p.path)));
});
