/**
 * Command output that is a window of a file's lines may start inside a value that runs over
 * lines: masking reads a `password: |` block scalar or a `private_key: |` PEM by the name on the
 * line before it (secret-text.ts), and `tail -n 1 app.yaml`, `head -n 4 | tail -n 1`,
 * `sed -n 4p`, `awk 'NR==4'` printed the value's lines without that name. So when a command of
 * the line is a program that prints a window (tail, sed, awk, tac, sort, shuf; anywhere in the
 * line, also behind a wrapper), the output's leading run of continuation-shaped lines (indented,
 * PEM armour or a base64 body line) is masked: with no name before them in the output, they may
 * be a value's. Why by content and not by refusing windows: `tail -n 100 app.log` must work, and
 * a log's lines are not indented continuations; a window that starts at a name (`  host: x`,
 * `KEY=v`) is read by masking as usual, and a count column (`uniq -c | sort -rn`, `wc -l * |
 * tail`) is read past. A window starting inside a stack trace loses those leading trace lines
 * (`***`).
 */
import type { ShellCommand } from './shell/types.js';
import { maskDecoratedStreams, PREFIXES } from './line-decorations.js';
import { SECRET_MASK } from './secret-text.js';

/** Programs whose output may start at any line of their input (or reorder lines: a value's lines before its name). */
const WINDOWS: ReadonlySet<string> = new Set(['tail', 'sed', 'gsed', 'awk', 'gawk', 'mawk', 'nawk', 'busybox', 'tac', 'sort', 'shuf']);

const base = (word: string): string => word.slice(word.lastIndexOf('/') + 1);

/** Does a command of this line print a window of lines? Generously: a window program's name as the program or any word (sudo tail, busybox tail, ssh h tail). */
export function printsLineWindow(commands: readonly ShellCommand[]): boolean {
  return commands.some((c) => WINDOWS.has(base(c.program)) || c.args.some((a) => WINDOWS.has(base(a))));
}

/** A line that names something itself (`host: x`, `KEY=v`, `"a": 1`, `- name: x`, `[section]`): masking reads it as usual. */
const NAMED = /^[ \t]*(?:- +)?(?:"[^"]*"|'[^']*'|[A-Za-z_][\w.\-/]*)[ \t]*(?::(?:[ \t]|$)|=)|^[ \t]*\[[^\]]+\][ \t]*$/;
/** A base64 body line (a PEM's, a key's), indented or not: no name however it ends (`AAAA==`). */
const BODY = /^[ \t]*[A-Za-z0-9+/]{16,}={0,2}[ \t]*$/;
/** PEM armour. */
const ARMOUR = /^[ \t]*-----(?:BEGIN|END) [A-Z0-9 ]+-----/;
/** Only brackets and separators (`  }`, `],`): closes a structure, holds no value. */
const CLOSER = /^[ \t]*[{}[\](),;]+[ \t]*$/;

/** A count column before the text (`uniq -c`, `wc -l`, `ps`: `      5 text`): the text after it is what is read. */
const COUNT = /^[ \t]*\d+[ \t]/;

/** Is this line (decoration taken off) one that may continue a value begun on an earlier line? */
function continuation(text: string): boolean {
  const line = text.replace(COUNT, '');
  if (/^[ \t]*$/.test(line)) return false;
  if (BODY.test(line) || ARMOUR.test(line)) return true;
  if (CLOSER.test(line) || NAMED.test(line)) return false;
  return /^[ \t]/.test(line);
}

/** The output with its leading run of continuation-shaped lines masked (blank lines inside the run kept), and how many lines were masked. */
export function maskWindowStart(text: string): { text: string; masked: number } {
  const lines = text.split('\n');
  // A decoration on every line (`tail -n 2 f | cat -n`): read each line without it.
  const body = lines.filter((l) => l !== '' && l !== '--');
  const prefix = body.length > 0 ? PREFIXES.find((re) => body.every((l) => re.test(l))) : undefined;
  let masked = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const lead = prefix === undefined ? '' : (prefix.exec(line)?.[0] ?? '');
    const rest = line.slice(lead.length);
    if (/^[ \t]*$/.test(rest) || line === '--' || rest.trim() === SECRET_MASK) continue;
    if (!continuation(rest)) break;
    // The count column and the blanks before the text stay.
    lines[i] = lead + (/^(?:[ \t]*\d+[ \t])?[ \t]*/.exec(rest)?.[0] ?? '') + SECRET_MASK;
    masked++;
  }
  return { text: masked === 0 ? text : lines.join('\n'), masked };
}

/** maskWindowStart over each stream (command output of a window program: ssh_run, kubectl_exec). */
export function maskWindowStreams<S extends Record<string, string>>(streams: S): { streams: S; masked: number } {
  const out: Record<string, string> = {};
  let masked = 0;
  for (const [k, v] of Object.entries(streams)) {
    const r = maskWindowStart(v);
    out[k] = r.text;
    masked += r.masked;
  }
  return { streams: out as S, masked };
}

/**
 * Command output masked (line-decorations.ts), and when a command of the line prints a window,
 * its leading continuation lines too. For ssh_run and kubectl_exec.
 */
export function maskCommandOutput<S extends Record<string, string>>(streams: S, commands: readonly ShellCommand[]): { streams: S; masked: number } {
  const r = maskDecoratedStreams(streams);
  if (!printsLineWindow(commands)) return r;
  const w = maskWindowStreams(r.streams);
  return { streams: w.streams, masked: r.masked + w.masked };
}
