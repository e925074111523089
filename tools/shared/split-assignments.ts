/**
 * A secret-named assignment whose name, separator and value are not on one line, which the
 * line forms of secret-text.ts do not read: the name, `=` (or `:`) and the value on lines of
 * their own (`PASSWORD` / `=` / `x`, YAML's explicit key `? password` / `: x`), a name and `=`
 * then the value on the next line (an ini value continued on an indented line, `password =` /
 * `    x`, masked with the indented lines after it), and a value continued with a trailing `\`
 * (a `.properties` `password=abc\` / `  def`: the forms masked the first line only). Why a
 * line scan: each line is looked at once and each pattern is anchored at its start, so the cost
 * is linear. Not masked: a value line that opens an assignment, a comment or a section
 * (`DB_PASSWORD=` then `DB_HOST=db` is an empty value), and, unindented, a line of several words
 * (`PASSWORD=` then `echo done` in a script), a line less indented than the name, and a shell
 * word that ends a compound command (`TOKEN=` then `fi`, `done`, `}`).
 */
import { secretValue } from './secret-names.js';

const MASK = '***';
/** A line holding only a name (`? ` before it: YAML's explicit key). */
const NAME_ONLY = /^[ \t]*(?:export[ \t]+|\?[ \t]+)?([A-Za-z_][\w.-]*)[ \t]*\r?$/;
/** A line holding only the separator, or the separator and the value. */
const SEPARATOR = /^([ \t]*[=:][ \t]*)([^\s=].*?)?\r?$/;
/** A name and `=` ending its line. */
const NAME_EQUALS = /^([ \t]*)(?:export[ \t]+)?([A-Za-z_][\w.-]*)[ \t]*=[ \t]*\r?$/;
/** A name, separator and value ending in `\` (a continuation). */
const CONTINUED = /^([ \t]*(?:export[ \t]+)?["']?([A-Za-z_][\w.-]*)["']?[ \t]*[=:][ \t]*)(.*)\\\r?$/;
/** What a value line is not: an assignment, a comment, a section, an `export`. */
const NOT_VALUE = /^[ \t]*(?:[#;[]|\/\/|export[ \t]|[A-Za-z_][\w.-]*[ \t]*(?:[:?+!]?=|:(?:[ \t]|\r?$)))/;
const INDENT = /^[ \t]*/;
/**
 * A shell word that closes or continues a compound command (`fi`, `done`, `esac`, `}`, `;;`,
 * `else`) or leaves it (`exit`, `return`): after `TOKEN=` in a script it is the next command, not
 * the value (`TOKEN=` is a whole assignment in a shell).
 */
const SHELL_WORD = /^[ \t]*(?:fi|done|esac|then|else|elif|do|\{|\}|;;|\)|exit|return|break|continue)[ \t]*;?[ \t]*\r?$/;

/** Does `line` end in an odd number of backslashes (a continuation, not an escaped `\`)? */
function continues(line: string): boolean {
  const body = line.endsWith('\r') ? line.slice(0, -1) : line;
  let n = 0;
  while (n < body.length && body[body.length - 1 - n] === '\\') n++;
  return n % 2 === 1;
}

/** `line` with its text after the indentation masked (a `\r` kept). */
const maskLine = (line: string) => (line.match(INDENT)?.[0] ?? '') + MASK + (line.endsWith('\r') ? '\r' : '');

/** Mask the values of secret-named assignments split over lines; `count.n` grows by each value masked. Why: see the module's comment. */
export function maskSplitAssignments(text: string, count?: { n: number }): string {
  if (!/[=:\\][ \t]*\r?\n|\n[ \t]*[=:]/.test(text)) return text;
  const lines = text.split('\n');
  const out: string[] = [];
  let masked = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const last = i === lines.length - 1;
    const cont = last ? null : CONTINUED.exec(line);
    if (cont && continues(line)) {
      let j = i;
      while (j + 1 < lines.length && continues(lines[j] as string)) j++;
      const value = lines.slice(i, j + 1).join('\n').slice((cont[1] as string).length);
      if (secretValue(cont[2] as string, value) && value.trim() !== MASK) {
        out.push((cont[1] as string) + MASK + (lines[j]!.endsWith('\r') ? '\r' : ''));
        masked++;
      } else out.push(...lines.slice(i, j + 1));
      i = j;
      continue;
    }
    out.push(line);
    const named = last ? null : NAME_ONLY.exec(line);
    if (named) {
      const sep = SEPARATOR.exec(lines[i + 1] as string);
      const valueLine = sep ? lines[sep[2] !== undefined ? i + 1 : i + 2] : undefined;
      if (!sep || valueLine === undefined) continue;
      const value = sep[2] ?? valueLine.trim();
      if (value === '' || value === MASK || !secretValue(named[1] as string, value)) continue;
      if (sep[2] !== undefined) out.push((sep[1] as string) + MASK + (valueLine.endsWith('\r') ? '\r' : ''));
      else out.push(lines[i + 1] as string, maskLine(valueLine));
      masked++;
      i += sep[2] !== undefined ? 1 : 2;
      continue;
    }
    const eq = last ? null : NAME_EQUALS.exec(line);
    if (!eq) continue;
    const next = lines[i + 1] as string;
    const own = (eq[1] as string).length;
    const indent = (next.match(INDENT)?.[0] ?? '').length;
    const value = next.trim();
    if (value === '' || value === MASK || NOT_VALUE.test(next)) continue;
    if (indent <= own && /\s/.test(value)) continue;
    // A line less indented than the name is no format's continuation (a script's `fi` after `  TOKEN=`).
    if (indent < own || SHELL_WORD.test(next)) continue;
    if (!secretValue(eq[2] as string, value)) continue;
    out.push(maskLine(next));
    masked++;
    i++;
    // An indented value goes on over the lines indented as far (ini continuation lines), masked with it.
    while (indent > own && i + 1 < lines.length && lines[i + 1]!.trim() !== '' && (lines[i + 1]!.match(INDENT)?.[0] ?? '').length >= indent) i++;
  }
  if (masked === 0) return text;
  if (count) count.n += masked;
  return out.join('\n');
}
