/**
 * Delegation claims (RFC 8693 token exchange): a token an agent got by exchanging a human's
 * carries `sub` = the human and `act: { sub: "agent-x" }`, the current actor, whose own `act`
 * names the actor before it (a chain); a link may say which issuer named its `sub` (`iss`).
 * Why in policy: `who:` matches actors (who.ts), and approvals, which read the same chain for
 * requesters and reviewers, may import policy but not the other way round (test/layering.test.ts).
 */

/** Deepest chain read; a longer one is refused outright as a reviewer, never matches an allow's `actors:`, and counts as matching every deny that names subjects or actors. */
export const MAX_ACTOR_DEPTH = 32;

/** One actor of the chain: its subject and, when the link says so, the issuer that named it. */
export interface ActorLink {
  sub: string;
  iss?: string;
}

const isLink = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

/**
 * The chain as an allow reads it: every link, current actor first, and whether the chain is well
 * formed (each link an object with a non-empty string `sub`, a string `iss` if any, ending with
 * no `act`, within MAX_ACTOR_DEPTH). No `act` at all is a well-formed empty chain.
 */
export function actorLinks(claims: Record<string, unknown>): { links: ActorLink[]; wellFormed: boolean } {
  const links: ActorLink[] = [];
  let act = own(claims, 'act');
  while (act !== undefined && act !== null) {
    if (!isLink(act) || links.length >= MAX_ACTOR_DEPTH) return { links, wellFormed: false };
    const sub = own(act, 'sub');
    const iss = own(act, 'iss');
    if (typeof sub !== 'string' || !sub || (iss !== undefined && typeof iss !== 'string')) return { links, wellFormed: false };
    links.push(typeof iss === 'string' ? { sub, iss } : { sub });
    act = own(act, 'act');
  }
  return { links, wellFormed: true };
}

/**
 * The chain as a deny reads it, generously: every `sub` (a string, or a number as text) of every
 * link reachable through `act`, past links that name no one, and whether links remain beyond
 * MAX_ACTOR_DEPTH (unread: a deny then presumes they name whoever it lists). An `act` of another
 * shape than RFC 8693's object is read for what it could name: a list's every item as a link, a
 * string or number as the actor's subject. Why: `act: [{ sub: agent-x }]` (or `act: agent-x`) read
 * as no chain let a cut-off agent pass a deny on its name (allows admit no such malformed chain).
 */
export function actorNamesForDeny(claims: Record<string, unknown>): { names: string[]; unread: boolean } {
  const names: string[] = [];
  const named = (v: unknown): void => {
    if (typeof v === 'string' || typeof v === 'number') names.push(String(v));
  };
  let todo: unknown[] = [own(claims, 'act')];
  for (let depth = 0; todo.length; depth++) {
    const next: unknown[] = [];
    for (const act of todo) {
      if (Array.isArray(act)) next.push(...act);
      else if (isLink(act)) {
        const sub = own(act, 'sub');
        if (Array.isArray(sub)) sub.forEach(named);
        else named(sub);
        next.push(own(act, 'act'));
      } else named(act);
    }
    todo = next.filter((v) => v !== undefined && v !== null);
    if (todo.length && (depth + 1 >= MAX_ACTOR_DEPTH || todo.length > MAX_ACTOR_DEPTH)) return { names, unread: true };
  }
  return { names, unread: false };
}

/** The actors' subjects, current actor first (`act.sub`, then `act.act.sub`, ...); [] without delegation. A link without a string `sub` names no one and ends the chain. */
export function actorChain(claims: Record<string, unknown>): string[] {
  const out: string[] = [];
  let act = own(claims, 'act');
  while (isLink(act) && out.length < MAX_ACTOR_DEPTH) {
    const sub = own(act, 'sub');
    if (typeof sub !== 'string' || !sub) break;
    out.push(sub);
    act = own(act, 'act');
  }
  return out;
}

/**
 * Whether the token says someone acts for its subject: any `act` claim at all, well formed or not
 * (fail closed: a reviewer's token with a malformed `act` is still not a human acting directly).
 */
export function isDelegated(claims: Record<string, unknown>): boolean {
  return Object.hasOwn(claims, 'act') && claims.act !== undefined && claims.act !== null;
}

/**
 * Claims with an `act` chain built from actors' subjects, current actor first (`[agent-x, broker]`
 * is `act: { sub: agent-x, act: { sub: broker } }`). For `warden policy test|explain`, which take
 * a chain as a list; null when `claims` already carries an `act` (the caller says which to use).
 */
export function claimsWithActors(claims: Record<string, unknown>, actors: readonly string[]): Record<string, unknown> | null {
  if (!actors.length) return claims;
  if (Object.hasOwn(claims, 'act')) return null;
  let act: Record<string, unknown> | undefined;
  for (const sub of [...actors].reverse()) act = act ? { sub, act } : { sub };
  return { ...claims, act };
}
