/**
 * Utility statements node-sql-parser does not know (EXPLAIN, LISTEN, NOTIFY, RESET, SET ROLE,
 * transaction control...). Their grammar is small enough to recognise from tokens, so policy
 * can name their kind instead of only seeing a parse error. EXPLAIN analyses its inner statement.
 */
import { parseError } from '../../../src/tool-api.js';
import type { Ctx } from './context.js';
import type { Token } from './lexer.js';
import { transactionKind } from './statement.js';

/** First words handled here rather than by node-sql-parser. */
export const UTILITY_WORDS = new Set([
  'explain', 'listen', 'unlisten', 'notify', 'reset', 'set', 'discard', 'checkpoint',
  'begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release', 'deallocate',
]);

/** Statements we recognise but never analyse deeply: refused with their kind named. */
export const REFUSED_WORDS = new Set([
  'copy', 'do', 'prepare', 'vacuum', 'analyze', 'analyse', 'cluster', 'reindex', 'load', 'refresh',
  'import', 'security', 'merge', 'fetch', 'move', 'declare', 'close', 'reassign', 'values', 'table',
]);

const isIdent = (t: Token | undefined): boolean => t?.kind === 'ident' || t?.kind === 'qident';

/**
 * Analyse a utility statement from its tokens. `inner` analyses a nested statement (EXPLAIN).
 * Returns false when the statement is not a utility statement.
 */
export function analyzeUtility(tokens: Token[], ctx: Ctx, inner: (tokens: Token[]) => void): boolean {
  const first = tokens[0];
  if (!first || first.kind !== 'ident') return false;
  const word = first.value;
  if (REFUSED_WORDS.has(word)) throw parseError(`${word.toUpperCase()} statements are not supported`);
  if (!UTILITY_WORDS.has(word)) return false;
  const rest = tokens.slice(1);
  const words = rest.map((t) => t.value);
  switch (word) {
    case 'explain': {
      let i = 0;
      let analyze = false;
      while (rest[i]?.kind === 'ident' && ['analyze', 'analyse', 'verbose'].includes(rest[i]?.value ?? '')) {
        if (rest[i]?.value !== 'verbose') analyze = true;
        i++;
      }
      if (rest[i]?.value === '(') throw parseError('EXPLAIN with an option list is not supported');
      ctx.kinds.add('explain');
      if (analyze) ctx.constructs.add('explain_analyze');
      inner(rest.slice(i));
      return true;
    }
    case 'listen':
    case 'unlisten':
      if (!(rest.length === 1 && (isIdent(rest[0]) || (word === 'unlisten' && words[0] === '*')))) {
        throw parseError(`${word.toUpperCase()} not understood`);
      }
      ctx.kinds.add(word);
      ctx.constructs.add('notification');
      return true;
    case 'notify':
      if (!(isIdent(rest[0]) && (rest.length === 1 || (rest.length === 3 && words[1] === ',' && rest[2]?.kind === 'string')))) {
        throw parseError('NOTIFY not understood');
      }
      ctx.kinds.add('notify');
      ctx.constructs.add('notification');
      return true;
    case 'reset':
    case 'set':
    case 'discard':
      if (rest.length === 0) throw parseError(`${word.toUpperCase()} not understood`);
      ctx.kinds.add(word === 'discard' ? 'discard' : 'set');
      ctx.constructs.add('set');
      return true;
    case 'checkpoint':
    case 'deallocate':
      ctx.kinds.add(word);
      ctx.constructs.add(word);
      return true;
    default:
      ctx.kinds.add(transactionKind(word));
      ctx.constructs.add('transaction');
      return true;
  }
}
