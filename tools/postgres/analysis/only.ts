/**
 * Which relations a statement names only with ONLY (`FROM ONLY payments`, `UPDATE ONLY
 * payments`, `ALTER TABLE ONLY payments`). PostgreSQL then reads or changes that table's own
 * rows, not those of its child tables and partitions; every other reference reaches them too,
 * and masks and deny rules follow it there (tools/postgres/inheritance.ts). The lexer drops the
 * keyword from the parser's text, so ONLY is judged here, on the tokens.
 */
import type { Token } from './lexer.js';
import { qualifyTable } from './names.js';

const isName = (t: Token | undefined): t is Token => t?.kind === 'ident' || t?.kind === 'qident';
const isDot = (t: Token | undefined): boolean => t?.kind === 'punct' && t.value === '.';

/**
 * Relations (schema.name, as facts spell them) every reference of which follows ONLY. Judged
 * without the AST: a relation counts only when every token spelling its name in the statement is
 * the name right after `ONLY` or `ONLY schema.`; any other use of that name (another reference,
 * an alias, a column) leaves it out, so a mistake can only make inheritance followed where it
 * need not be (fail closed), never skipped where PostgreSQL follows it. A name followed by '.'
 * is not counted: it qualifies something (`payments.id`, `payments.*`, schema `payments.t`), and
 * a relation reference ends with the relation's own name, never with a '.' (pg_get_viewdef
 * qualifies every column so: `SELECT payments.id FROM ONLY public.payments`).
 */
export function onlyRelations(tokens: readonly Token[]): string[] {
  const spelled = new Map<string, number>();
  const afterOnly = new Map<string, number>();
  const relations = new Map<string, string>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!isName(t)) continue;
    if (!isDot(tokens[i + 1])) spelled.set(t.value, (spelled.get(t.value) ?? 0) + 1);
    if (t.kind !== 'ident' || t.value !== 'only') continue;
    const first = tokens[i + 1];
    if (!isName(first)) continue;
    const qualified = isDot(tokens[i + 2]);
    const second = tokens[i + 3];
    // schema.name, or name; a three-part name is left to PostgreSQL's refusal (and not judged ONLY).
    if (qualified && (!isName(second) || isDot(tokens[i + 4]))) continue;
    const name = qualified ? second! : first;
    relations.set(qualifyTable(qualified ? first.value : null, name.value), name.value);
    afterOnly.set(name.value, (afterOnly.get(name.value) ?? 0) + 1);
  }
  return [...relations]
    .filter(([, bare]) => spelled.get(bare) === afterOnly.get(bare))
    .map(([relation]) => relation)
    .sort();
}
