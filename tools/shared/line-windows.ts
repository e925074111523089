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
 * tail`) is read past, and so is a stack trace's frame (FRAME); a Python frame's source line
 * is masked (`***`).
 *
 * A command that picks lines that are not one window, or reorders them, may drop a value's name
 * and keep its lines anywhere in the output, after another name: `grep -v password app.yaml`,
 * `grep '^    '`, `sed -n '2p;4p'`, `sed '/password/d'`, `awk 'NR==2||NR==5'`, `awk '!/key/'`,
 * `sort -r`, `uniq -u` printed a block scalar's lines bare (or as a harmless block's value). So
 * when a command of the line selects lines (grep and its kin, sed, awk, sort, tac, shuf, uniq,
 * comm, look), every continuation-shaped line of the output is masked, wherever it stands (behind
 * grep's `FILE:`, `N:` prefixes too): named lines and a log's lines stay, indented text does not
 * (`grep -rn TODO src` shows an indented code line as `***`).
 */
import type { ShellCommand } from './shell/types.js';
import { fileNameLeads, maskDecoratedStreams, PREFIXES } from './line-decorations.js';
import { SECRET_MASK } from './secret-text.js';
import { maskSecretFileStreams } from './secret-file-lines.js';
import { maskShownObject } from './git-object-output.js';

/** Programs whose output may start at any line of their input (or reorder lines: a value's lines before its name). */
const WINDOWS: ReadonlySet<string> = new Set(['tail', 'more', 'less', 'most', 'busybox', 'toybox']);
/** Programs whose output may be any lines of their input in any order (see the module comment). */
const SELECTIONS: ReadonlySet<string> = new Set([
  'grep', 'egrep', 'fgrep', 'rgrep', 'zgrep', 'zegrep', 'zfgrep', 'xzgrep', 'xzegrep', 'xzfgrep', 'bzgrep', 'bzegrep', 'bzfgrep', 'lzgrep',
  'zstdgrep', 'ggrep', 'rg', 'ag', 'ack', 'ugrep', 'sed', 'gsed', 'awk', 'gawk', 'mawk', 'nawk', 'busybox', 'toybox', 'tac', 'sort', 'gsort',
  'shuf', 'uniq', 'comm', 'look',
]);

const base = (word: string): string => word.slice(word.lastIndexOf('/') + 1);

const names = (commands: readonly ShellCommand[], set: ReadonlySet<string>): boolean =>
  commands.some((c) => set.has(base(c.program)) || c.args.some((a) => set.has(base(a))));

/** Does a command of this line print a window of lines? Generously: a window program's name as the program or any word (sudo tail, busybox tail, ssh h tail). */
export function printsLineWindow(commands: readonly ShellCommand[]): boolean {
  return names(commands, WINDOWS) || names(commands, SELECTIONS);
}

/** Does a command of this line pick or reorder lines (git grep, xargs grep, sudo sed: the name as any word)? */
export function printsLineSelection(commands: readonly ShellCommand[]): boolean {
  return names(commands, SELECTIONS);
}

/** A line that names something itself (`host: x`, `KEY=v`, `"a": 1`, `- name: x`, `[section]`): masking reads it as usual. */
const NAMED = /^[ \t]*(?:- +)?(?:"[^"]*"|'[^']*'|[A-Za-z_][\w.\-/]*)[ \t]*(?::(?:[ \t]|$)|=)|^[ \t]*\[[^\]]+\][ \t]*$/;
/** A base64 body line (a PEM's, a key's), indented or not: no name however it ends (`AAAA==`). */
const BODY = /^[ \t]*[A-Za-z0-9+/]{16,}={0,2}[ \t]*$/;
/** PEM armour. */
const ARMOUR = /^[ \t]*-----(?:BEGIN|END) [A-Z0-9 ]+-----/;
/** Only brackets and separators (`  }`, `],`): closes a structure, holds no value. */
const CLOSER = /^[ \t]*[{}[\](),;]+[ \t]*$/;

/**
 * A stack trace's frame (Java/Kotlin `at a.B.c(B.java:12)`, `... 3 more`, Node `at f (/app/x.js:1:2)`,
 * Python `File "x.py", line 3, in f`): indented, but the shape of a trace, never of a secret
 * value, so `grep -A20 Exception app.log` keeps its frames (a Python frame's source line is
 * still masked: it is free text).
 */
const FRAME = /^[ \t]*(?:at (?:new |async )?[\w$.<>\/[\]-]+ ?\((?:[^()\n]*:\d+(?::\d+)?|Native Method|Unknown Source)\)|at (?:file:\/\/|node:|\/)[^\s()]*:\d+:\d+|\.\.\. \d+ (?:more|common frames omitted)|File "[^"\n]*", line \d+(?:, in [\w<>.$]+)?)[ \t]*$/;

/** A count column before the text (`uniq -c`, `wc -l`, `ps`: `      5 text`): the text after it is what is read. */
const COUNT = /^[ \t]*\d+[ \t]/;

/** Is this line (decoration taken off) one that may continue a value begun on an earlier line? */
function continuation(text: string): boolean {
  const line = text.replace(COUNT, '');
  if (/^[ \t]*$/.test(line)) return false;
  if (BODY.test(line) || ARMOUR.test(line)) return true;
  if (CLOSER.test(line) || NAMED.test(line) || FRAME.test(line)) return false;
  return /^[ \t]/.test(line);
}

/** The decoration before each line: a prefix on every line (`cat -n`, `grep -n`), grep's file names, or none. */
function leads(lines: readonly string[], fileNames: boolean): string[] {
  const body = lines.filter((l) => l !== '' && l !== '--');
  const prefix = body.length > 0 ? PREFIXES.find((re) => body.every((l) => re.test(l))) : undefined;
  if (prefix !== undefined) return lines.map((l) => prefix.exec(l)?.[0] ?? '');
  return (fileNames ? fileNameLeads(lines) : null) ?? lines.map(() => '');
}

/**
 * The output with its continuation-shaped lines masked (`every`: all of them; else the leading
 * run, blank lines inside it kept), and how many lines were masked.
 */
export function maskWindowStart(text: string, every = false): { text: string; masked: number } {
  const lines = text.split('\n');
  // A decoration on every line (`tail -n 2 f | cat -n`, `grep -rv x DIR`): read each line without it.
  const lead = leads(lines, every);
  let masked = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const rest = line.slice((lead[i] as string).length);
    if (/^[ \t]*$/.test(rest) || line === '--' || rest.trim() === SECRET_MASK) continue;
    if (!continuation(rest)) {
      if (every) continue;
      break;
    }
    // The count column and the blanks before the text stay.
    lines[i] = (lead[i] as string) + (/^(?:[ \t]*\d+[ \t])?[ \t]*/.exec(rest)?.[0] ?? '') + SECRET_MASK;
    masked++;
  }
  return { text: masked === 0 ? text : lines.join('\n'), masked };
}

/** maskWindowStart over each stream (command output of a window or selecting program: ssh_run, kubectl_exec). */
export function maskWindowStreams<S extends Record<string, string>>(streams: S, every = false): { streams: S; masked: number } {
  const out: Record<string, string> = {};
  let masked = 0;
  for (const [k, v] of Object.entries(streams)) {
    const r = maskWindowStart(v, every);
    out[k] = r.text;
    masked += r.masked;
  }
  return { streams: out as S, masked };
}

/**
 * Command output masked (line-decorations.ts), and when a command of the line prints a window,
 * its leading continuation lines too (every one when a command selects lines). For ssh_run and kubectl_exec.
 */
export function maskCommandOutput<S extends Record<string, string>>(streams: S, commands: readonly ShellCommand[]): { streams: S; masked: number } {
  // `git show ID` of a blob: its raw content, with no name (git-object-output.ts).
  const o = maskShownObject(streams, commands);
  const d = maskDecoratedStreams(o.streams);
  // A recursive search's lines from a file that is itself a secret by its name (secret-file-lines.ts).
  const f = maskSecretFileStreams(d.streams);
  const r = { streams: f.streams, masked: o.masked + d.masked + f.masked };
  if (!printsLineWindow(commands)) return r;
  const w = maskWindowStreams(r.streams, printsLineSelection(commands));
  return { streams: w.streams, masked: r.masked + w.masked };
}
