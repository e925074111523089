/**
 * A write-side oracle on a masked value's size (constraint-oracles.ts judges the others): an
 * index row has a size limit (a btree's is about a third of a page, 2704 bytes on 8 kB pages:
 * SQLSTATE 54000 "index row size exceeds btree maximum"; GiST, GIN, SP-GiST and BRIN have theirs),
 * and an UPDATE writing a column that shares a plain index with a masked column the statement
 * leaves as it is fails exactly when the two values together pass it. Under an index on
 * (email, note), `UPDATE t SET note = '<N incompressible bytes>' WHERE id = 1` fails from an N
 * that tells length(email); the failure rolls back, so it is asked again for every N.
 *
 * Rule, under masks: a written column of variable length (text, bytea, an array, ...) in such an
 * index (constraint-catalog.ts, kind `z`: any access method but hash, whose row holds a hash)
 * must be written a bounded constant, and all of the index's written together at most
 * SIZED_WRITE_BYTES: a string literal (its text as written), a parameter (`$1`, its text as
 * sent), a safe integer, NULL (a foreign key's SET NULL too: the UPDATE it makes is `SET k =
 * NULL`); into a char(n) column, padded with blanks to n characters (`'x'` into char(2600) is
 * 2600 bytes: storedBytes); and only into a column whose type stores at most its text (AS_TEXT:
 * `'[[[[]]]]'` into jsonb or `'{1,1,1}'` into int[] stores several times its text, so is not
 * sized; NULL is), of a btree or as an INCLUDE column (another index's key is stored in its
 * operator class's form). A DO UPDATE's `EXCLUDED.note` is what the INSERT's VALUES give note, row by row: the
 * largest of those, each sized so, unless a BEFORE INSERT row trigger may have changed it. A
 * computed value (`repeat('x', 3000)`, `note || 'x'`, a column, a cast, DEFAULT, EXCLUDED of an
 * INSERT ... SELECT, a foreign key's action carrying the parent's new key or SET DEFAULT) is not
 * sized here: refused, as is a write whose columns are not known one by one (a view, a whole
 * row). A column of fixed length (int, timestamp, uuid) changes no size: not judged. (NULL adds
 * an index row's null bitmap, a few bytes, well within SIZED_WRITE_BYTES.)
 * What is left: a masked value within SIZED_WRITE_BYTES of the limit, beside the row's other
 * indexed values (readable ones an agent may first fill, a constant at a time), can still be
 * told from a short write; the limit is far above ordinary short values.
 */
import type { MaskingContext } from '../../src/tool-api.js';
import type { SetSize, ValueSize } from './analysis/types.js';
import type { TableConstraint } from './constraint-catalog.js';

/**
 * The type classes (TableConstraint.classes) whose stored form is at most its input text's bytes
 * (and a varlena header): text, varchar, char(n) (padded: storedBytes), bytea (hex or escape input
 * stores less), json and xml (stored as their text), citext (text's input). Why: any other
 * (jsonb, an array, numeric, tsquery, a range, a geometric or composite type, a key of an index
 * that is not a btree) may store more than written (`'[[[[]]]]'` as jsonb, `'{1,1,1}'` as int[]),
 * so a literal's text does not bound it: not sized.
 */
export const AS_TEXT: ReadonlySet<string> = new Set(['text', 'varchar', 'bpchar', 'bytea', 'json', 'xml', 'citext']);

/** The most bytes an UPDATE may write, in total, into the columns of variable length of one index holding a masked column it leaves. */
export const SIZED_WRITE_BYTES = 256;

/** A parameter's size as sent (its text), or undefined for a value not understood (fail closed). */
function paramBytes(v: unknown): number | undefined {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v).length;
  return undefined;
}

/**
 * A value's size as stored into a column (undefined: not sized, fail closed): NULL none; into a
 * column whose type stores at most its text (`textual`, AS_TEXT) a literal's text, a parameter's
 * as sent, any other not sized; into a char(n) column (`width` n, TableConstraint.padded) padded
 * with blanks to n characters: a parameter's characters are counted, a literal's are at least a
 * quarter of its UTF-8 bytes. Width 0: a padding not read, not sized.
 */
function storedBytes(v: ValueSize, params: readonly unknown[], width: number | undefined, textual: boolean): number | undefined {
  const x = v.bytes === undefined && v.param !== undefined ? params[v.param - 1] : undefined;
  if (v.none || (v.bytes === undefined && v.param !== undefined && (x === null || x === undefined))) return 0;
  if (!textual) return undefined;
  const bytes = v.bytes ?? (v.param !== undefined ? paramBytes(x) : undefined);
  if (bytes === undefined || width === undefined) return bytes;
  if (width === 0) return undefined;
  const chars = v.bytes === undefined ? [...String(x)].length : Math.ceil(bytes / 4);
  return bytes + Math.max(0, width - chars);
}

/**
 * Why an UPDATE of `relation` (its `listed` written columns, `sizes` its SET items' sizes, none
 * for a foreign key's action) may fail by the size of a masked value index `k` holds beside a
 * column it writes; or null. `generated`: the generated columns computed anew from a written one
 * (`GENERATED ALWAYS AS (repeat(note, 20))` grows a short value): not sized. `upsert`: only its
 * DO UPDATE's SET items write an existing row.
 * `moves`: a row may move between partitions, indexed anew whole by the partition it enters
 * (whose indexes the one it leaves may lack): every column of the index counts as written.
 * `insertTriggered`: the table has a BEFORE INSERT row trigger, whose changes to the proposed row
 * EXCLUDED shows (PostgreSQL's ON CONFLICT): an `EXCLUDED.col` is then not sized.
 */
export function sizedWhy(k: TableConstraint, m: MaskingContext, tables: string[], relation: string, listed: readonly string[], generated: readonly string[],
  sizes: readonly SetSize[] | undefined, params: readonly unknown[], upsert: boolean, moves: boolean, insertTriggered = false): { masked: string; why: string } | null {
  const whole = listed.includes('*') || moves;
  const items = (sizes ?? []).filter((s) => s.table === relation);
  const written = k.columns.filter((c) => whole || generated.includes(c) || (listed.includes(c) && (!upsert || items.some((s) => s.column === c))));
  if (!written.length) return null;
  const left = whole ? k.columns : k.columns.filter((c) => !written.includes(c));
  // The first masked column it holds that the statement leaves (oracle-reasons.ts maskedOf, read inline).
  const masked = left.flatMap((c) => tables.map((t) => `${t}.${c}`)).find((col) => m.columns.some((mc) => mc.column === col)) ?? null;
  if (!masked) return null;
  const what = `it holds the masked value beside ${written.join(', ')}, which the statement writes, and an index row has a size limit`;
  const tail = 'whether the statement fails (rolled back, so it can be repeated) tells the size of the masked value';
  if (whole) return { masked, why: `${what}; the columns written are not known one by one, or the row may move between partitions and be indexed anew, and ${tail}` };
  let total = 0;
  for (const c of written) {
    // A generated column has no SET item: computed, so not sized.
    const mine = generated.includes(c) ? [] : items.filter((s) => s.column === c);
    for (const s of mine.length ? mine : [{ table: relation, column: c }]) {
      // EXCLUDED.col: each conflicting row is updated with its own VALUES row's value, the largest counts (none: not sized).
      // Into char(n), each value padded to n characters (k.padded).
      // Of a type not stored as its text (jsonb, an array: k.classes), only NULL is sized.
      const cls = k.classes?.[c] ?? 'other';
      const sizes = (s.excluded ?? [s]).map((v) => storedBytes(v, params, k.padded?.[c], AS_TEXT.has(cls)));
      const bytes = sizes.length && !sizes.includes(undefined) ? Math.max(...(sizes as number[])) : undefined;
      if (bytes === undefined && !AS_TEXT.has(cls)) {
        const kind = cls === 'operator class' ? 'a key of an index that is not a btree, whose operator class may store another form than the value'
          : `of ${cls === 'other' ? 'a type' : `type ${cls}`} not known to store a value in at most the bytes of its text (as jsonb, an array or numeric may not)`;
        return { masked, why: `${what}; ${c} is ${kind}, so the size of a value written into it is not known, and ${tail}` };
      }
      if (bytes === undefined || (s.excluded && insertTriggered)) {
        return { masked, why: `${what}; the value written into ${c} is computed (not a literal or parameter, or a generated column, or EXCLUDED of one a BEFORE INSERT trigger may change, or padded into a char(n) Warden does not read), so its size is not known, and ${tail}` };
      }
      total += bytes;
    }
  }
  return total > SIZED_WRITE_BYTES
    ? { masked, why: `${what}; the values written into it take ${total} bytes, more than ${SIZED_WRITE_BYTES}, and ${tail}` }
    : null;
}

export const ALLOWED_SIZED = `an UPDATE writing string literals or parameters of at most ${SIZED_WRITE_BYTES} bytes in all (into char(n), padded to n characters; or safe integers, NULL; or a DO UPDATE's EXCLUDED.col of such VALUES, with no BEFORE INSERT trigger) into the columns of variable length of an index beside a masked column runs, ` +
  'when each is of a type stored as at most its text (text, varchar, char(n), bytea, json, xml, citext, or a domain over one) and, but for an INCLUDE column, the index is a btree (any value written into another type is refused but NULL); ' +
  'so does one writing only columns of fixed length, or the masked column itself';
