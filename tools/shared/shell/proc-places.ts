/**
 * Places under /proc and /dev that a grant's `paths:` reach only by naming them. Why: a prefix
 * such as `/proc` (granted for `/proc/loadavg`), `/dev` or `/` would otherwise grant
 * - an open file of any process (`/proc/N/fd/3`, `/proc/N/task/T/fd/3`, `/proc/N/map_files/X`,
 *   `/proc/self/fd/3`, `/dev/fd/3`, `/dev/stdin`), a file whose path Warden cannot know: it may
 *   be a secret, or a file a deny rule names;
 * - what a process keeps private: its environment and argv (a database server's PGPASSWORD, a
 *   token on a command line), its memory and memory map, its auxiliary vector, kernel stack and
 *   syscall, its open files' details, and its program (`environ`, `cmdline`, `mem`, `maps`, ...);
 * - a disk, partition or volume, or the machine's memory (`/dev/sda1`, `/dev/mem`: device-places.ts),
 *   which hold every file's content; `ls`, `df`, `lsblk` and other metadata readers still reach them.
 * Such a read is allowed only when a prefix of the grant lies at or below that place and holds the
 * path (`paths: [/proc/self/fd]` reads `/proc/self/fd/0`; `paths: [/dev/stdin]` reads `/dev/stdin`).
 * A process's environment is granted also by `environment: true`.
 */
import { lexicalPath, normalisePath, throughOpenFile } from './paths.js';
import { devicePlace, readsDeviceContent, wholeDeviceRead } from './device-places.js';

/** The place an open file lies in, as written: a process's fd or map_files folder, /dev/fd, /dev/std*; also inside a process's root. */
const OPEN_PLACE = /^(?:\/proc\/[^/]+(?:\/task\/[^/]+)?\/root)*\/(?:proc\/[^/]+(?:\/task\/[^/]+)?\/(?:fd|map_files)|dev\/fd|dev\/std(?:in|out|err))(?=\/|$)/;

/** A process's private entries (their folder, for fd, fdinfo and map_files), and the kernel's memory. */
const PRIVATE_PLACE = /^\/proc\/(?:[^/]+(?:\/task\/[^/]+)?\/(environ|cmdline|mem|maps|smaps|smaps_rollup|numa_maps|pagemap|auxv|stack|syscall|wchan|personality|fd|fdinfo|map_files|exe)|(kcore))(?=\/|$)/;

/** What a private place holds, for the refusal. */
const WHAT: Readonly<Record<string, string>> = {
  environ: "a process's environment", cmdline: "a process's command line", mem: "a process's memory", maps: "a process's memory map",
  exe: "a process's program file", fd: "a process's open files", map_files: "a process's mapped files", fdinfo: "a process's open files' details",
  kcore: "the kernel's memory",
};

/** A place a grant must name to reach a path: where it lies, and what it holds. */
export interface NamedPlace {
  /** The place (`/proc/1/fd`, `/dev/stdin`, `/proc/1/cmdline`), or null when its spelling hides it (never granted). */
  place: string | null;
  what: string;
  /** A storage or memory device (device-places.ts): judged only for a program that reads its content. */
  device?: boolean;
}

/** The place `path` (absolute) reaches that a grant must name, or null when none. */
export function placeToName(path: string): NamedPlace | null {
  if (!path.startsWith('/')) return null;
  const lex = lexicalPath(path) ?? path;
  if (throughOpenFile(path)) return { place: OPEN_PLACE.exec(lex)?.[0] ?? null, what: 'an open file of a process (whose path Warden cannot know: it may be a secret)' };
  // Where it leads (/proc/1/root/proc/2/environ is /proc/2/environ) first, then where it lies.
  for (const p of [normalisePath(path), lex]) {
    const m = p === null ? null : PRIVATE_PLACE.exec(p);
    if (m !== null) {
      const entry = (m[1] ?? m[2]) as string;
      return { place: m[0], what: `${WHAT[entry] ?? `a process's private ${entry}`} (its secrets)` };
    }
  }
  // A disk, partition, volume or the machine's memory: every file's content (device-places.ts).
  const device = devicePlace(path);
  return device === null ? null : { ...device, device: true };
}

/** Is `p` the prefix `pre` or under it? */
function within(p: string, pre: string): boolean {
  return pre === '/' ? p.startsWith('/') : p === pre || p.startsWith(`${pre}/`);
}

/**
 * Why `program` may not reach `word` under `prefixes` (normalised grant paths) for the place it
 * names, or null when it names none or a prefix names it. `environment`: the grant says it (environ).
 */
export function unnamedPlace(program: string, word: string, prefixes: readonly string[], environment: boolean, args: readonly string[] = [], fed = false): string | null {
  const whole = wholeDeviceRead(program, args, word);
  if (whole !== null) return `${whole}; read a device by name under a grant whose paths: name it.`;
  const hit = placeToName(word);
  if (hit === null || (hit.device === true && !readsDeviceContent(program, args, fed))) return null;
  const { place, what } = hit;
  if (place !== null && place.endsWith('/environ') && environment) return null;
  const lex = lexicalPath(word) ?? word;
  const to = normalisePath(word);
  // A prefix at or below the place that holds the path, where it lies or (through a process's root) where it leads.
  if (place !== null && prefixes.some((pre) => within(pre, place) && (within(lex, pre) || (to !== null && within(to, pre))))) return null;
  const how = place === null ? 'which no grant can name in this spelling; write it plainly' : `a grant reaches it only when its paths: name ${place}${place.endsWith('/environ') ? ' or it says environment: true (this grant does not say environment: true)' : ''}`;
  return `${program} reaches '${lex}', ${what}, which this grant's paths: (${prefixes.join(', ')}) do not name; ${how}.`;
}
