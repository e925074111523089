/**
 * An argv written as a list in text: a Kubernetes manifest's `args:`/`command:` block sequence
 * (`- --db-password` then `- hunter2`), a flow list or exec form on one line (`command: ["app",
 * "--db-password", "hunter2"]`, `CMD ["mysql", "-phunter2"]`), a JSON array one string a line
 * (docker inspect's `"Args": [`), or one word a line (`strings` of a NUL-separated file). The
 * line masker (secret-text.ts) reads a flag and its value on one line (`app --db-password ***`),
 * so these showed the password bare in ssh_run output. Here every line's list items, or the line
 * itself, are read in order as one argv (secret-argv.ts maskSecretArgv: a secret-named flag's
 * next word, `NAME=value`, and the passwords programs take by flag or position, credential-flags.ts)
 * and the items it masks are masked in place, their quotes and indentation kept. Generous: words
 * of unrelated lines are read together, so a line that is exactly `--password` masks the next.
 */
import { maskSecretArgv } from './secret-argv.js';

/** One item of the text: where its value's text lies, and the value (quotes and escapes removed). */
interface Item {
  start: number;
  end: number;
  value: string;
}

/** A flow list or JSON array on one line, without nested brackets: `[a, "b", 'c']`. */
const FLOW_LIST = /\[([^[\]\r\n]*)\]/g;

/** One flow item: a quoted string or plain text up to the next comma (greedy, trimmed in code: no backtracking over blanks). */
const FLOW_ITEM = /[ \t]*(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^,"'\s][^,]*))[ \t]*(?:,|$)/dy;
/** A double-quoted string's inner text. */
const DQ_INNER = /^(?:[^"\\]|\\.)*$/;
/** A line's indentation and YAML `- ` marker. */
const LEAD = /^[ \t]*(?:-[ \t]+)?/;

/** The item a match's quoted or plain group gives, at `base` in the whole text. */
function item(m: RegExpExecArray, first: number, base: number): Item | null {
  for (const g of [first, first + 1, first + 2]) {
    const raw = m[g];
    const at = m.indices?.[g];
    if (raw === undefined || at === undefined) continue;
    const value = g === first ? unquoteDouble(raw) : g === first + 1 ? raw.replace(/''/g, "'") : raw.trimEnd();
    return { start: base + at[0], end: base + at[0] + (g === first + 2 ? value.length : raw.length), value };
  }
  return null;
}

/** A JSON or YAML double-quoted string's value (escapes read by JSON, else kept as written). */
function unquoteDouble(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/** The items of one flow list's inner text at `base` in the whole text; null when it is not a list of scalars. */
function flowItems(inner: string, base: number): Item[] | null {
  const items: Item[] = [];
  FLOW_ITEM.lastIndex = 0;
  while (FLOW_ITEM.lastIndex < inner.length) {
    const m = FLOW_ITEM.exec(inner);
    const it = m === null ? null : item(m, 1, base);
    if (it === null) return null;
    items.push(it);
  }
  return items;
}

/** The items of one line at `base`: its flow lists' items, or the line as one item (one word, a `- ` item or a quoted string). */
function lineItems(line: string, base: number): Item[] {
  const lists: Item[] = [];
  FLOW_LIST.lastIndex = 0;
  for (let m = FLOW_LIST.exec(line); m !== null; m = FLOW_LIST.exec(line)) {
    const items = flowItems(m[1] as string, base + m.index + 1);
    if (items !== null) lists.push(...items);
  }
  if (lists.length > 0) return lists;
  const lead = (LEAD.exec(line) as RegExpExecArray)[0];
  // The item without blanks, a CR and one trailing comma around it (read by hand: linear).
  let end = line.length;
  const blankAt = (i: number) => i > lead.length && /[ \t\r]/.test(line[i - 1] as string);
  while (blankAt(end)) end--;
  if (end > lead.length && line[end - 1] === ',') end--;
  while (blankAt(end)) end--;
  const core = line.slice(lead.length, end);
  if (core === '') return [];
  const start = base + lead.length;
  const q = core[0];
  if ((q === '"' || q === "'") && core.length >= 2 && core.endsWith(q)) {
    const inner = core.slice(1, -1);
    if (q === '"' ? !DQ_INNER.test(inner) : inner.replace(/''/g, '').includes("'")) return [];
    return [{ start: start + 1, end: start + 1 + inner.length, value: q === '"' ? unquoteDouble(inner) : inner.replace(/''/g, "'") }];
  }
  // A plain line of several words is text, not an argv word (the line masker read it); a `- ` item may hold blanks.
  if (q === '"' || q === "'" || (/\s/.test(core) && !lead.includes('-'))) return [];
  return [{ start, end: start + core.length, value: core }];
}

/**
 * `text` with the secrets of the argv its list items (or lines) spell masked in place; `count.n`
 * grows by each value masked. Why after the line masker: a value it masked already is `***` and
 * stays as it is (not counted twice). A text of one line without a list is returned as it is.
 */
export function maskArgvLists(text: string, count?: { n: number }): string {
  if (!text.includes('\n') && !text.includes('[')) return text;
  const items: Item[] = [];
  let base = 0;
  for (const line of text.split('\n')) {
    items.push(...lineItems(line, base));
    base += line.length + 1;
  }
  if (items.length < 2) return text;
  const masked = maskSecretArgv(items.map((i) => i.value));
  let out = '';
  let at = 0;
  let changed = false;
  for (const [k, it] of items.entries()) {
    const value = masked[k] as string;
    // A value the line masker hid already (`password: ***`) stays as it is.
    if (value === it.value || it.value.includes('***')) continue;
    const raw = text.slice(it.start, it.end);
    // The mask keeps the value's start (`-p***`); where quotes changed the text, the whole item is masked.
    const shown = raw === it.value ? value : '***';
    if (shown === raw) continue;
    out += text.slice(at, it.start) + shown;
    at = it.end;
    changed = true;
    if (count) count.n++;
  }
  return changed ? out + text.slice(at) : text;
}
