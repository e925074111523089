/**
 * `who:` and the actor chain (RFC 8693 `act`): a deny naming a subject reaches that subject as an
 * actor at any depth of the chain, folded like any deny; groups and claims stay the principal's;
 * `who.actors` on an allow admits only delegated calls whose every actor is listed, and on a
 * deny matches when any actor of the chain is listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/load.js';
import { decide, visibleTools, whoMatches } from '../../src/policy/engine.js';
import { actorLinks } from '../../src/policy/actors.js';
import { sqlCondition } from '../../tools/postgres/sql-condition.js';
import { analyzeSql } from '../../tools/postgres/analysis/index.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { lookalikeNames } from '../../src/policy/lint-names.js';
import type { Principal } from '../../src/tool-api.js';

const RULES = `
rules:
  - id: staff-read
    effect: allow
    who: { groups: [staff] }
    tool: query_database
    sql: { statements: [select], read: [public.t] }
  - id: bots-write
    effect: allow
    who: { groups: [staff], actors: [agent-ok, broker] }
    tool: query_database
    sql: { statements: [update], write: [public.t] }
  - id: cut-off-agent-x
    effect: deny
    who: { subjects: [agent-x] }
    reason: agent-x is suspended.
  - id: no-blocked-group
    effect: deny
    who: { groups: [agent-y] }
  - id: no-relay-bot
    effect: deny
    who: { actors: [relay-bot] }
    tool: query_database
`;
const policy = compilePolicy(['p.yaml'], [sqlCondition], { 'p.yaml': RULES });

const ISS = 'https://idp.example';
const P = (act?: unknown, groups = ['staff'], subject = 'alice'): Principal => ({ subject, groups, claims: { iss: ISS, ...(act === undefined ? {} : { act }) }, authMethod: 'oidc' });
const run = (p: Principal, sql = 'SELECT * FROM t') => decide(policy, p, { tool: 'query_database', connection: 'db', args: { sql } }, analyzeSql(sql));
const update = (p: Principal) => run(p, 'UPDATE t SET a = 1');

test('a deny by subject reaches the actor at depth 1 and depth 2 of the chain, and names the rule', () => {
  assert.equal(run(P()).effect, 'allow', 'alice acting directly');
  assert.equal(run(P({ sub: 'agent-ok' })).effect, 'allow', 'another agent acting for alice');
  const d1 = run(P({ sub: 'agent-x' }));
  assert.equal(d1.effect, 'deny');
  assert.deepEqual(d1.ruleIds, ['cut-off-agent-x']);
  assert.equal(d1.reason, 'agent-x is suspended.');
  const d2 = run(P({ sub: 'broker', act: { sub: 'agent-x' } }));
  assert.deepEqual(d2.ruleIds, ['cut-off-agent-x'], 'agent-x as the prior actor, behind a broker');
  assert.deepEqual(run(P({ sub: 'a', act: { sub: 'b', act: { sub: 'agent-x' } } })).ruleIds, ['cut-off-agent-x'], 'depth 3');
  assert.deepEqual(run(P(undefined, ['staff'], 'agent-x')).ruleIds, ['cut-off-agent-x'], 'agent-x acting as itself');
});

test('confusable spellings of an actor do not walk past the deny', () => {
  for (const s of ['Agent-X', 'AGENT-X', 'ａｇｅｎｔ-ｘ', 'agent\u200b-x', ' agent-x ', 'agent-x\u034f']) {
    assert.deepEqual(run(P({ sub: s })).ruleIds, ['cut-off-agent-x'], JSON.stringify(s));
    assert.deepEqual(run(P({ sub: 'broker', act: { sub: s } })).ruleIds, ['cut-off-agent-x'], `depth 2 ${JSON.stringify(s)}`);
  }
});

test('a deny reads past a malformed link, and a chain too deep to read counts as matching', () => {
  assert.deepEqual(run(P({ client: 'no sub here', act: { sub: 'agent-x' } })).ruleIds, ['cut-off-agent-x'], 'a link without sub still leads to its actor');
  let deep: Record<string, unknown> = { sub: 'last' };
  for (let i = 0; i < 40; i++) deep = { sub: `hop-${i}`, act: deep };
  assert.deepEqual(run(P(deep)).ruleIds.sort(), ['cut-off-agent-x', 'no-relay-bot'], 'an unreadable tail may hide anyone');
});

test('groups do not reach actors: an actor named like a denied group is not denied by it', () => {
  assert.equal(run(P({ sub: 'agent-y' })).effect, 'allow');
  assert.deepEqual(run(P(undefined, ['staff', 'agent-y'])).ruleIds, ['no-blocked-group'], 'the principal\'s own group still does');
});

test('a deny with who.actors matches when any actor of the chain is listed (folded), never the principal alone', () => {
  assert.deepEqual(run(P({ sub: 'relay-bot' })).ruleIds, ['no-relay-bot']);
  assert.deepEqual(run(P({ sub: 'agent-ok', act: { sub: 'Relay-Bot' } })).ruleIds, ['no-relay-bot']);
  assert.equal(run(P(undefined, ['staff'], 'relay-bot')).effect, 'allow', 'actors: names agents acting for someone, not a principal acting directly');
});

test('an allow with who.actors admits a delegated call only when every actor is listed, exactly', () => {
  assert.equal(update(P({ sub: 'agent-ok' })).effect, 'allow');
  assert.deepEqual(update(P({ sub: 'agent-ok' })).ruleIds, ['bots-write']);
  assert.equal(update(P({ sub: 'agent-ok', act: { sub: 'broker' } })).effect, 'allow', 'every actor listed');
  assert.equal(update(P({ sub: 'agent-ok', act: { sub: 'stranger' } })).effect, 'deny', 'an unlisted prior actor');
  assert.equal(update(P({ sub: 'stranger', act: { sub: 'agent-ok' } })).effect, 'deny', 'an unlisted current actor');
  assert.equal(update(P({ sub: 'Agent-OK' })).effect, 'deny', 'allows match exactly');
  assert.equal(update(P({ sub: 'agent-ok' }, ['other'])).effect, 'deny', 'groups still have to match');
});

test('an allow with who.actors does not admit a call without a chain, nor a malformed or foreign one', () => {
  assert.equal(update(P()).effect, 'deny', 'alice acting directly');
  assert.equal(update(P(undefined, ['staff'], 'agent-ok')).effect, 'deny', 'the agent acting as itself');
  assert.equal(update(P('agent-ok')).effect, 'deny', 'act as a string');
  assert.equal(update(P({ sub: 'agent-ok', act: 'broker' })).effect, 'deny', 'a malformed prior link');
  assert.equal(update(P({ sub: 'agent-ok', act: { client: 'x' } })).effect, 'deny', 'a prior link without sub');
  assert.equal(update(P({ sub: 'agent-ok', iss: 'https://other.example' })).effect, 'deny', 'an actor named by another issuer');
  assert.equal(update(P({ sub: 'agent-ok', iss: ISS })).effect, 'allow', 'an actor named by the token\'s own issuer');
});

test('discovery follows: the denied agent sees no tools, the allow with actors shows only to listed agents', () => {
  assert.deepEqual(visibleTools(policy, P({ sub: 'agent-x' }), ['query_database']), []);
  assert.deepEqual(visibleTools(policy, P({ sub: 'AGENT-X' }), ['query_database']), []);
  assert.equal(whoMatches(policy.rules.find((r) => r.id === 'bots-write')!, P({ sub: 'agent-ok' })), true);
  assert.equal(whoMatches(policy.rules.find((r) => r.id === 'bots-write')!, P()), false);
});

test('the chain is read current actor first, with each link\'s issuer', () => {
  assert.deepEqual(actorLinks({ act: { sub: 'a', iss: 'i1', act: { sub: 'b' } } }), { links: [{ sub: 'a', iss: 'i1' }, { sub: 'b' }], wellFormed: true });
  assert.deepEqual(actorLinks({}), { links: [], wellFormed: true });
  assert.equal(actorLinks({ act: 'a' }).wellFormed, false);
});

test('the schema: actors must name someone, and approval reviewers take no actors', () => {
  const load = (who: string, extra = '') => () => compilePolicy(['q.yaml'], [sqlCondition], { 'q.yaml': `rules:\n  - id: r\n    effect: allow\n    who: ${who}\n    tool: query_database\n    sql: { statements: [select], read: [public.t] }\n${extra}` });
  assert.doesNotThrow(load('{ actors: [agent-ok] }'));
  assert.throws(load('{ actors: [] }'), ConfigError);
  assert.throws(load('{ groups: [g] }', '    approval: { reviewers: { groups: [dba], actors: [bot] } }\n'), ConfigError);
});

test('policy check warns about an actor name with look-alike letters', () => {
  const p = compilePolicy(['r.yaml'], [sqlCondition], { 'r.yaml': 'rules:\n  - id: r\n    effect: deny\n    who: { actors: [\u0430gent-x] }\n' });
  const found = lookalikeNames(p.rules[0]!);
  assert.equal(found.length, 1);
  assert.deepEqual(found[0]!.key, ['who', 'actors', 0]);
  assert.match(found[0]!.message, /^actor "/);
});

test('the trace says which actor chain who.actors did not admit, not that the principal is outside who', () => {
  const why = (p: Principal, id: string) => update(p).trace.find((t) => t.id === id)!.why;
  assert.equal(why(P({ sub: 'agent-ok', act: { sub: 'stranger' } }), 'bots-write'), 'the actor chain (agent-ok <- stranger) is not all within who.actors (agent-ok, broker)');
  assert.equal(why(P(), 'bots-write'), 'principal alice acts directly, and who.actors admits only calls delegated through agent-ok, broker');
  assert.equal(why(P({ sub: 'agent-ok' }), 'no-relay-bot'), 'no actor of the chain (agent-ok) is in who.actors');
  assert.equal(why(P({ sub: 'agent-ok' }, ['visitors']), 'bots-write'), 'principal alice is not in who', 'the groups fail first: the principal is named');
});
