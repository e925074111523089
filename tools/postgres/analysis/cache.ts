/**
 * LRU cache of analyses keyed by the exact SQL text: agents repeat the same queries, and
 * parsing is the expensive step. Facts are deeply frozen, so sharing them is safe. Parse
 * errors are not cached (they are cheap to reproduce and carry per-call context).
 */
import type { SqlFacts } from './types.js';
import { analyzeSql } from './index.js';

/** How many distinct SQL texts are remembered. */
export const SQL_CACHE_SIZE = 2000;

const cache = new Map<string, SqlFacts>();

/** analyzeSql with an LRU cache in front; the returned facts are frozen. */
export function analyzeSqlCached(sql: string): SqlFacts {
  const hit = cache.get(sql);
  if (hit) {
    cache.delete(sql);
    cache.set(sql, hit);
    return hit;
  }
  const facts = analyzeSql(sql);
  cache.set(sql, facts);
  if (cache.size > SQL_CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  return facts;
}

/** Empty the cache (tests, policy reloads that change analysis options). */
export function clearSqlCache(): void {
  cache.clear();
}
