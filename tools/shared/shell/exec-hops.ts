/**
 * Hops: subcommands that run a command somewhere else, as ssh runs its remote command
 * (`kubectl exec POD -- CMD`, `kubectl run|debug ... -- CMD`, `oc rsh POD CMD`,
 * `docker|podman|nerdctl exec CONTAINER CMD` and `run|create IMAGE CMD`, `crictl exec`,
 * `ctr task exec`/`ctr run`, `lxc|incus exec NAME -- CMD`, `machinectl shell NAME CMD`). Where the
 * command is, so that the `shell:` condition judges it as a command of its own (condition.ts,
 * deny-runs.ts). sudo, su, runuser, chroot, nsenter, unshare and systemd-run are wrappers
 * (runners.ts), judged there.
 */
import {
  CRICTL_EXEC, CTR_EXEC, CTR_RUN, DOCKER_EXEC, DOCKER_RUN, KUBE_ATTACH, KUBE_DEBUG, KUBE_EXEC, KUBE_RUN, LXC_EXEC, MACHINECTL, OC_RSH, PODMAN_RUN, PODMAN_UNSHARE,
  type HopOptions,
} from './hop-options.js';
import type { LineTraits, Run } from './deny-runs.js';
import { quoteWord } from './quote.js';
import { locateSubcommand, rootOptions } from './subcommand-options.js';
import { kubectlPlugin, podmanUnread } from './unread-runs.js';

/**
 * The command a hop runs (`start`: its index among the words after the program, null when an
 * option gives its first word, as `docker run --entrypoint`), a shell it runs on a terminal
 * (no command given), or unknown: the command cannot be told apart from the other words.
 */
export type Hop = ({ command: string[]; start: number | null; how: string } | { shell: string }) & HopEnv | { unknown: string };
/** The environment a hop's options give its command: `NAME=value` words (`-e`, `--env`, `--setenv`), and whether a file of them is read. */
export interface HopEnv { env: string[]; envFile: boolean }

/**
 * One hop subcommand. `exec`: a command is required, none means a shell; `run`: none means the
 * image's own program, a shell when given a terminal; `attach`: a shell only with standard input;
 * `shell`: always a shell; `dash`: the words after `--`, if any (`kubectl create job ... -- CMD`).
 * `lead`: operands before the command (pod, container, image; ctr run: image and id).
 */
interface Verb {
  kind: 'exec' | 'run' | 'attach' | 'shell' | 'dash';
  options?: HopOptions;
  lead?: number;
}
type Verbs = Readonly<Record<string, Verb | { nested: Readonly<Record<string, Verb>> } | { refused: readonly string[] }>>;

const KUBE_BOOLEANS = rootOptions('kubectl')?.boolean ?? [];
const exec = (options: HopOptions, lead = 1): Verb => ({ kind: 'exec', options, lead });
const run = (options: HopOptions, lead = 1): Verb => ({ kind: 'run', options, lead });
const KUBE: Verbs = {
  exec: exec(KUBE_EXEC), attach: { kind: 'attach', options: KUBE_ATTACH, lead: 1 }, run: run(KUBE_RUN), debug: run(KUBE_DEBUG), create: { kind: 'dash' },
};
const dockerish = (runOptions: HopOptions): Verbs => {
  const verbs = { exec: exec(DOCKER_EXEC), run: run(runOptions), create: run(runOptions) };
  return { ...verbs, container: { nested: verbs }, compose: { refused: ['exec', 'run', 'create'] }, service: { refused: ['create', 'update'] } };
};
const CTR_VERBS = { exec: exec(CTR_EXEC) };
const CTR_CREATE = { create: run(CTR_RUN, 2) };
const LXC: Verbs = { exec: exec(LXC_EXEC), shell: { kind: 'shell' }, console: { kind: 'shell' } };

/** Per program: its hop subcommands, and whether subcommand-options.ts models the options before them. */
const PROGRAMS: Readonly<Record<string, { verbs: Verbs; modelled?: boolean }>> = {
  kubectl: { verbs: KUBE, modelled: true },
  oc: { verbs: { ...KUBE, rsh: exec(OC_RSH) } },
  docker: { verbs: dockerish(DOCKER_RUN), modelled: true },
  // podman unshare runs its command on the host; which word of `machine ssh [NAME] [CMD]` is the command is not known here.
  podman: { verbs: { ...dockerish(PODMAN_RUN), unshare: exec(PODMAN_UNSHARE, 0), machine: { refused: ['ssh'] } }, modelled: true },
  nerdctl: { verbs: dockerish(DOCKER_RUN) },
  crictl: { verbs: { exec: exec(CRICTL_EXEC) } },
  ctr: { verbs: { task: { nested: CTR_VERBS }, tasks: { nested: CTR_VERBS }, t: { nested: CTR_VERBS }, run: run(CTR_RUN, 2), container: { nested: CTR_CREATE }, containers: { nested: CTR_CREATE }, c: { nested: CTR_CREATE } } },
  lxc: { verbs: LXC },
  incus: { verbs: LXC },
  machinectl: { verbs: { shell: exec(MACHINECTL), login: { kind: 'shell' } } },
};

/** Programs with hops (a deny rule looks into them). */
export const HOP_PROGRAMS: ReadonlySet<string> = new Set(Object.keys(PROGRAMS));

type Scan = { operands: number[]; dash: number; values: Map<string, string>; interactive: boolean } & HopEnv | { unknown: string };

/** Read options as `o` says: the operands (indices; for non-interspersed, only the first), `--`, option values, a terminal. */
function scan(args: readonly string[], o: HopOptions, label: string): Scan {
  const operands: number[] = [];
  const values = new Map<string, string>();
  let interactive = false;
  const env: HopEnv = { env: [], envFile: false };
  const value = (name: string, v: string): void => {
    values.set(name, v);
    if (o.env?.values.includes(name) === true) env.env.push(v);
    if (o.env?.files?.includes(name) === true) env.envFile = true;
  };
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') return { operands: o.interspersed ? operands : [i + 1], dash: i, values, interactive, ...env };
    if (!w.startsWith('-') || w === '-') {
      operands.push(i);
      if (!o.interspersed) break;
      continue;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w : w.slice(0, eq);
      interactive ||= o.interactive.includes(name);
      if (o.values.includes(name)) value(name, eq < 0 ? (args[++i] ?? '') : w.slice(eq + 1));
      else if (!o.booleans.includes(name)) return { unknown: `${label} option ${name} is not one Warden knows` };
      continue;
    }
    for (let k = 1; k < w.length; k++) {
      const opt = `-${w[k] as string}`;
      interactive ||= o.interactive.includes(opt);
      if (o.values.includes(opt)) {
        value(opt, k + 1 < w.length ? w.slice(k + 1).replace(/^=/, '') : (args[++i] ?? ''));
        break;
      }
      if (!o.booleans.includes(opt)) return { unknown: `${label} option ${opt} (in '${w}') is not one Warden knows` };
    }
  }
  return { operands, dash: -1, values, interactive, ...env };
}

/** Options of `kubectl create job|cronjob|deployment` that never take the next word. */
const DASH_BOOLEANS: ReadonlySet<string> = new Set(['--save-config', '--dry-run', '--validate', '--allow-missing-template-keys', '--show-managed-fields', ...KUBE_BOOLEANS]);

/** The words of an `--entrypoint`: podman reads a JSON array of strings (`'["rm","-rf"]'`); null when it starts with `[` but is none. */
function entrypointWords(value: string): string[] | null {
  if (!value.trimStart().startsWith('[')) return [value];
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && parsed.length > 0 && parsed.every((w): w is string => typeof w === 'string') ? parsed : null;
  } catch {
    return null;
  }
}

/** What one hop subcommand runs; `args` are the words after it, `offset` where they start among the program's words. */
function readVerb(v: Verb, args: readonly string[], offset: number, label: string): Hop | null {
  const none: HopEnv = { env: [], envFile: false };
  if (v.kind === 'shell') return { shell: `${label} with no command runs a shell on a terminal`, ...none };
  if (v.kind === 'dash') {
    const dash = args.indexOf('--');
    if (dash < 0 || dash === args.length - 1) return null;
    // Its options are not modelled: an option right before `--` may take it as its value (`--cache-dir -- -- CMD`).
    const before = dash > 0 ? (args[dash - 1] as string) : '';
    if (/^-/.test(before) && !before.includes('=') && !DASH_BOOLEANS.has(before)) return { unknown: `${label}: '${before}' may take -- as its value` };
    return { command: args.slice(dash + 1), start: offset + dash + 1, how: label, ...none };
  }
  const o = v.options as HopOptions;
  const lead = v.lead ?? 1;
  const s = scan(args, o, label);
  if ('unknown' in s) return s;
  const env: HopEnv = { env: s.env, envFile: s.envFile };
  const shell = { shell: `${label} with no command runs a shell (or the image's own program) on a terminal`, ...env };
  let from: number;
  if (o.interspersed) {
    if (s.operands.length > lead) return { unknown: s.dash < 0 ? `the command of ${label} must follow --` : `${label} has more than ${lead} word(s) before --` };
    from = s.dash < 0 ? args.length : s.dash + 1;
  } else {
    from = Math.min(args.length, (s.operands[0] ?? args.length) + lead);
    if (args[from] === '--') from++; // docker and its kin pass a `--` here on as the program; generously, the word after it
  }
  let command = args.slice(from);
  let start: number | null = offset + from;
  const entrypoint = s.values.get('--entrypoint');
  if (entrypoint !== undefined && entrypoint !== '') {
    const words = entrypointWords(entrypoint);
    if (words === null) return { unknown: `the --entrypoint of ${label} is a JSON array Warden cannot read` };
    command = [...words, ...command];
    start = null;
  }
  if (command.length > 0) return { command, start, how: label, ...env };
  if (v.kind === 'exec' || s.interactive) return shell;
  return null;
}

/**
 * What `base args` runs through a hop, or null when it is no hop (another subcommand). When its
 * subcommand cannot be told (an option before it that Warden does not model), any word that
 * names a hop subcommand makes it unknown.
 */
export function execHop(base: string, args: readonly string[]): Hop | null {
  const p = Object.hasOwn(PROGRAMS, base) ? PROGRAMS[base] : undefined;
  if (p === undefined) return null;
  const unread = base === 'podman' ? podmanUnread(args) : null; // runlabel, --infra-command (unread-runs.ts)
  if (unread !== null) return { unknown: unread };
  let at: number;
  if (base === 'machinectl') {
    const s = scan(args, MACHINECTL, base);
    at = 'unknown' in s ? -1 : (s.operands[0] ?? args.length);
    const hop = readVerbs(p.verbs, args, at, base, 0);
    // `machinectl -E NAME=value shell ...`: options before the verb set the environment too.
    return hop === null || 'unknown' in hop || 'unknown' in s ? hop : { ...hop, env: [...s.env, ...hop.env], envFile: hop.envFile || s.envFile };
  } else if (p.modelled === true) {
    const sub = locateSubcommand(base, args);
    at = sub.kind === 'none' ? args.length : sub.kind === 'word' ? sub.at : -1;
  } else at = args.length === 0 || !(args[0] as string).startsWith('-') ? 0 : -1;
  return readVerbs(p.verbs, args, at, base, 0);
}

function readVerbs(verbs: Verbs, args: readonly string[], at: number, label: string, offset: number): Hop | null {
  const names = (vs: Verbs): string[] => Object.entries(vs).flatMap(([k, v]) => [k, ...('nested' in v ? Object.keys(v.nested) : 'refused' in v ? v.refused : [])]);
  if (at < 0) {
    const hit = args.find((w) => names(verbs).includes(w));
    return hit === undefined ? null : { unknown: `cannot tell the subcommand of ${label}, and '${hit}' may be one that runs a command` };
  }
  const word = args[at];
  if (word === undefined || !Object.hasOwn(verbs, word)) return null;
  const v = verbs[word] as Verbs[string];
  const rest = args.slice(at + 1);
  if ('nested' in v) return readVerbs(v.nested, rest, rest.length === 0 || !(rest[0] as string).startsWith('-') ? 0 : -1, `${label} ${word}`, offset + at + 1);
  if ('refused' in v) {
    const hit = rest.find((w) => v.refused.includes(w));
    return hit === undefined ? null : { unknown: `Warden does not read the options of ${label} ${word}, so the command ${hit} runs cannot be told` };
  }
  return readVerb(v, rest, offset + at + 1, `${label} ${word}`);
}

/**
 * What a deny rule must judge in a hop (deny-runs.ts): `start`, where among the words after the
 * program the command stands (judged as a wrapper's program is, computed words too), or runs:
 * the command as text when an option gives its first word, "any program" when it cannot be told
 * or a shell reads what the line feeds it.
 */
export function hopRuns(base: string, args: readonly string[], line: LineTraits): { runs: Run[]; start: number | null; env: string[] } {
  const plugin = base === 'kubectl' ? kubectlPlugin(args) : null; // kubectl-NAME from PATH (unread-runs.ts)
  if (plugin !== null) return { runs: [{ kind: 'any', why: plugin.why }], start: null, env: [] };
  const hop = execHop(base, args);
  if (hop === null) return { runs: [], start: null, env: [] };
  if ('unknown' in hop) return { runs: [{ kind: 'any', why: hop.unknown }], start: null, env: [] };
  const runs: Run[] = hop.envFile ? [{ kind: 'any', why: `${base} reads the environment of the command it runs from a file Warden cannot read` }] : [];
  const env = hop.env;
  if ('shell' in hop) return { runs: line.fed ? [...runs, { kind: 'any', why: `${hop.shell}, which reads what the line feeds it` }] : runs, start: null, env };
  if (hop.start !== null) return { runs, start: hop.start, env };
  if (line.expanding && hop.command.some((w) => /[$`*?[{~]/.test(w))) return { runs: [...runs, { kind: 'any', why: `the command ${hop.how} runs has computed words` }], start: null, env };
  return { runs: [...runs, { kind: 'script', text: hop.command.map(quoteWord).join(' '), why: `in the command ${hop.how} runs` }], start: null, env };
}
