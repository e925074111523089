/**
 * Whether a rule's `who:` covers a principal. Allow rules (and approval reviewers) match names
 * exactly as written: a grant never reaches a look-alike. Deny rules match generously, since a
 * deny that reaches too far can only refuse: a subject, group or claim value is compared by its
 * folded form (case, width, invisible characters, as approvals compare subjects), and a claim
 * the token carries as a list or a number counts by each value, and a dotted claim name also
 * reads the nested claim along its path (claimForDeny); a claim value it cannot read as names
 * (an object, a list of objects) matches, and a string claim matches by each of its words
 * (denyClaimMatches). Why: an IdP that spells a name
 * `Mallory`, `ｍａｌｌｏｒｙ` or `mallory\u200b`, or sends `roles: [contractor]`, must not walk past
 * `deny: { who: { subjects: [mallory] } }` or `claims: { roles: contractor }`.
 *
 * Delegation (RFC 8693 `act`, policy/actors.ts): a deny's `subjects:` also matches any actor of
 * the chain, at any depth, by subject alone (a link's `iss` is ignored: matching more only
 * refuses), so an admin cutting off agent-x reaches it while it acts for alice. Actors carry no
 * groups or claims: `groups:` and `claims:` stay the principal's. `actors:` narrows like
 * `claims:`: on a deny, some actor of the chain is listed (folded); on an allow, the chain is
 * well formed and not empty and every actor is listed exactly, named by the token's own issuer
 * (a link without `iss`, or with the token's `iss`). So an allow with `actors:` admits only
 * delegated calls, and only through the agents it lists; a principal acting directly needs a
 * rule without `actors:`. A chain deeper than actors.ts reads matches every deny that names
 * subjects or actors, and no allow that names actors.
 */
import type { Principal } from '../tool-api.js';
import type { Who } from './schema.js';
import { actorLinks, actorNamesForDeny } from './actors.js';
import { NAME_LIST_SEPARATORS } from '../config/schema-parts.js';

/**
 * The comparison key of a name under a deny: NFKC, format, control and other default-ignorable
 * characters dropped (U+034F, variation selectors and Hangul fillers are not format characters
 * but render as nothing), whitespace and the braille blank collapsed, case folded.
 */
export function foldName(s: string): string {
  return s
    .normalize('NFKC')
    .replace(/[\p{Cf}\p{Cc}\p{Default_Ignorable_Code_Point}]/gu, '')
    .replace(/[\s\u2800]+/gu, ' ')
    .trim()
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC');
}

/** A rule's who, folded once (rules are immutable once compiled). */
interface FoldedWho {
  subjects: Set<string>;
  groups: Set<string>;
  claims: [string, Set<string>][];
  actors: Set<string>;
}

const folded = new WeakMap<Who, FoldedWho>();

function foldWho(w: Who): FoldedWho {
  let f = folded.get(w);
  if (!f) {
    f = {
      subjects: new Set((w.subjects ?? []).map(foldName)),
      groups: new Set((w.groups ?? []).map(foldName)),
      claims: Object.entries(w.claims ?? {}).map(([k, v]) => [k, new Set((Array.isArray(v) ? v : [v]).map(foldName))]),
      actors: new Set((w.actors ?? []).map(foldName)),
    };
    folded.set(w, f);
  }
  return f;
}

interface FoldedPrincipal {
  from: string[];
  act: unknown;
  subject: string;
  groups: string[];
  /** Folded subjects of every actor a deny reads (actors.ts actorNamesForDeny). */
  actors: string[];
  /** Links beyond the depth read: a deny naming subjects or actors presumes they are among them. */
  unread: boolean;
}

const foldedPrincipals = new WeakMap<Principal, FoldedPrincipal>();

/** The principal's subject, groups and actors folded, once per principal object (the verifier reuses them per token); redone if they changed. */
function foldPrincipal(p: Principal): FoldedPrincipal {
  const from = [p.subject, ...p.groups];
  const act = Object.hasOwn(p.claims, 'act') ? p.claims.act : undefined;
  let f = foldedPrincipals.get(p);
  if (!f || f.act !== act || f.from.length !== from.length || f.from.some((x, i) => x !== from[i])) {
    const chain = actorNamesForDeny(p.claims);
    f = { from, act, subject: foldName(p.subject), groups: p.groups.map(foldName), actors: chain.names.map(foldName), unread: chain.unread };
    foldedPrincipals.set(p, f);
  }
  return f;
}

/** An allow's `actors:`: a well-formed, non-empty chain whose every actor is listed exactly and named by the token's own issuer. */
function actorsAllowed(listed: string[], p: Principal): boolean {
  const { links, wellFormed } = actorLinks(p.claims);
  const iss = Object.hasOwn(p.claims, 'iss') ? p.claims.iss : undefined;
  return wellFormed && links.length > 0 && links.every((l) => listed.includes(l.sub) && (l.iss === undefined || l.iss === iss));
}

/** Every value of a claim a deny can judge: a string, a number or boolean as text, or each such item of a list (nested lists too). Why exported: an HTTP session's owner is keyed by exactly these. */
export function claimValues(have: unknown): string[] {
  const one = (v: unknown): string[] => (typeof v === 'string' ? [v] : typeof v === 'number' || typeof v === 'boolean' ? [String(v)] : []);
  return Array.isArray(have) ? have.flat(8).flatMap(one) : one(have);
}

/**
 * What claimForDeny answers for a dotted path that runs through a value that is no object (a
 * string, a list, a number): the claim may be in there, and a deny presumes it is.
 */
const UNREADABLE_PATH: unique symbol = Symbol('unreadable claim path');

/**
 * The claim a deny reads under `key`: the top-level claim of that exact name (claim names may hold
 * dots, e.g. a namespaced URL), else, for a dotted key, the nested claim along that path
 * (`realm_access.roles`, `resource_access.app.roles`), as `groups_claim` is read. Why: a deny on
 * a nested claim that never looked inside the object matched nobody (allows read top-level names only).
 * A missing or null step is no claim; a step through anything else is UNREADABLE_PATH.
 */
export function claimForDeny(claims: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(claims, key) || !key.includes('.')) return Object.hasOwn(claims, key) ? claims[key] : undefined;
  let v: unknown = claims;
  for (const part of key.split('.')) {
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) return UNREADABLE_PATH;
    v = Object.hasOwn(v, part) ? (v as Record<string, unknown>)[part] : undefined;
  }
  return v;
}

/**
 * Whether a claim value is names a deny can compare: a string, number, boolean or null, or lists
 * of them as deep as claimValues flattens. Not an object, nor a list holding one, nor a path
 * through a scalar (UNREADABLE_PATH). Why exported: an HTTP session's owner keeps any other
 * value whole, since a deny matches on it (http-sessions.ts principalFingerprint).
 */
export function readsAsNames(v: unknown, depth = 0): boolean {
  if (Array.isArray(v)) return depth <= 8 && v.every((x) => readsAsNames(x, depth + 1));
  return v === null || (typeof v !== 'object' && typeof v !== 'symbol');
}

/**
 * A deny's `claims:` entry against the token's claim. Fail closed on what cannot be read: a value
 * that is not names (`roles: {contractor: true}`, `roles: [{name: contractor}]`) matches, as a
 * chain deeper than actors.ts reads does; and a string that lists several values matches by each
 * word too (`roles: "staff contractor"`, split as `identity.oidc.groups_string: split` splits).
 * Absent and null claims hold no value, so they do not match.
 */
function denyClaimMatches(have: unknown, wants: ReadonlySet<string>): boolean {
  if (!readsAsNames(have)) return true;
  return claimValues(have).some((v) => wants.has(foldName(v)) || (NAME_LIST_SEPARATORS.test(v) && v.split(NAME_LIST_SEPARATORS).some((w) => w !== '' && wants.has(foldName(w)))));
}

/** Does the rule's `who` cover the principal? (omitted = anyone; `effect: deny` matches generously, see above) */
export function whoMatches(rule: { who?: Who | undefined; effect?: 'allow' | 'deny' }, p: Principal): boolean {
  const w = rule.who;
  if (!w) return true;
  const hasSubjects = !!w.subjects?.length;
  const hasGroups = !!w.groups?.length;
  const claim = (k: string): unknown => (Object.hasOwn(p.claims, k) ? p.claims[k] : undefined);
  if (rule.effect === 'deny') {
    const f = foldWho(w);
    const me = foldPrincipal(p);
    let ok = !hasSubjects && !hasGroups;
    if (hasSubjects && (me.unread || f.subjects.has(me.subject) || me.actors.some((a) => f.subjects.has(a)))) ok = true;
    if (!ok && hasGroups && me.groups.some((g) => f.groups.has(g))) ok = true;
    if (!ok) return false;
    if (w.actors && !(me.unread || me.actors.some((a) => f.actors.has(a)))) return false;
    return f.claims.every(([k, wants]) => denyClaimMatches(claimForDeny(p.claims, k), wants));
  }
  let ok = !hasSubjects && !hasGroups;
  if (hasSubjects && w.subjects!.includes(p.subject)) ok = true;
  if (hasGroups && w.groups!.some((g) => p.groups.includes(g))) ok = true;
  if (ok && w.claims) {
    for (const [k, want] of Object.entries(w.claims)) {
      const have = claim(k);
      const wants = Array.isArray(want) ? want : [want];
      if (typeof have !== 'string' || !wants.includes(have)) return false;
    }
  }
  return ok && (!w.actors || actorsAllowed(w.actors, p));
}

/**
 * Whom a rule's `who:` names, for explain, and a subject or group the principal holds in another
 * case than an allow names it (an allow matches exactly). Why: "principal ana is not in who" sent
 * the admin to the file, and a group sent as `Analysts` for `analysts` looked like a match there.
 * Explain only: never on the decision path.
 */
export function whoDetail(rule: { who?: Who | undefined; effect: 'allow' | 'deny' }, p: Principal): string {
  const w = rule.who;
  if (!w) return '';
  const parts: string[] = [];
  if (w.subjects?.length) parts.push(`subjects ${w.subjects.join(', ')}`);
  if (w.groups?.length) parts.push(`groups ${w.groups.join(', ')}`);
  if (w.claims && Object.keys(w.claims).length) parts.push(`claims ${JSON.stringify(w.claims)}`);
  if (w.actors?.length) parts.push(`actors ${w.actors.join(', ')}`);
  const near = (mine: string[], listed: string[] | undefined, kind: string) =>
    mine.flatMap((m) => {
      const n = rule.effect === 'allow' ? listed?.find((l) => l !== m && l.toLowerCase() === m.toLowerCase()) : undefined;
      return n === undefined ? [] : [`${kind} "${m}" differs only in case from "${n}", and an allow matches names exactly`];
    });
  const hints = [...near([p.subject], w.subjects, 'subject'), ...near(p.groups, w.groups, 'group')];
  return parts.length || hints.length ? `who: ${[...parts, ...hints].join('; ')}` : '';
}
