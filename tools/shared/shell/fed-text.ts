/**
 * The text `echo` or `printf` writes, read from their words, so that what they feed a program
 * with a command language (`echo 'select 1' | psql`) can be judged like an option's value.
 */
import type { ShellCommand } from './types.js';

const SIMPLE: Readonly<Record<string, string>> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/**
 * `text` with backslash escapes decoded. `octal`: printf's `\NNN` (1-3 digits), or echo's
 * `\0NNN` (a 0, then 0-3 digits). `\c` ends the output.
 */
function decode(text: string, octal: 'printf' | 'echo'): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '\\' || i + 1 >= text.length) {
      out += c;
      continue;
    }
    const rest = text.slice(i + 1);
    const oct = (octal === 'printf' ? /^[0-7]{1,3}/ : /^0[0-7]{0,3}/).exec(rest);
    const hex = /^x[0-9A-Fa-f]{1,2}|^u[0-9A-Fa-f]{1,4}|^U[0-9A-Fa-f]{1,8}/.exec(rest);
    if (rest[0] === 'c') return out;
    if (oct !== null) {
      const digits = octal === 'printf' ? oct[0] : oct[0].slice(1);
      out += String.fromCharCode(parseInt(digits === '' ? '0' : digits, 8) & 0xff);
      i += oct[0].length;
    } else if (hex !== null) {
      out += String.fromCodePoint(parseInt(hex[0].slice(1), 16));
      i += hex[0].length;
    } else if (Object.hasOwn(SIMPLE, rest[0] as string)) {
      out += SIMPLE[rest[0] as string] as string;
      i++;
    } else out += c;
  }
  return out;
}

/** printf's output for `format args...`, or null when a directive other than %s, %b and %% is used. */
function printfOutput(args: readonly string[]): string | null {
  const [format, ...values] = args[0] === '--' ? args.slice(1) : args;
  if (format === undefined) return '';
  let out = '';
  let next = 0;
  do {
    let used = false;
    for (let i = 0; i < format.length; i++) {
      const c = format[i] as string;
      if (c !== '%') {
        const esc = c === '\\' ? /^\\([0-7]{1,3}|x[0-9A-Fa-f]{1,2}|.)/s.exec(format.slice(i)) : null;
        out += esc === null ? c : decode(esc[0], 'printf');
        if (esc !== null) i += esc[0].length - 1;
        continue;
      }
      const d = format[i + 1];
      if (d === '%') out += '%';
      else if (d === 's' || d === 'b') {
        const v = values[next++] ?? '';
        out += d === 'b' ? decode(v, 'echo') : v;
        used = true;
      } else return null;
      i++;
    }
    if (!used) break;
  } while (next < values.length);
  return out;
}

/**
 * Every text `cmd` may write when it is echo or printf (echo with and without escapes decoded,
 * both octal spellings: the shell that runs it may be bash or dash), or null when `cmd` is
 * another program or printf uses a directive whose output is not read here (`%c`, `%d`, ...).
 */
export function fedTexts(cmd: ShellCommand): string[] | null {
  if (cmd.program === 'echo') {
    const raw = cmd.args.join(' ');
    return [raw, decode(raw, 'echo'), decode(raw, 'printf')];
  }
  if (cmd.program === 'printf') {
    if (cmd.args[0]?.startsWith('-v') === true) return ['']; // -v NAME sets a variable and writes nothing
    const out = printfOutput(cmd.args);
    return out === null ? null : [out];
  }
  return null;
}
