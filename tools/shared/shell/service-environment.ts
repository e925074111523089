/**
 * Service managers' and container engines' readers that print a service's environment, where
 * its secrets live (`Environment=DATABASE_PASSWORD=...` in a unit, `-e API_KEY=...` of a
 * container). A grant of these programs reads as one to inspect services, not to read their
 * secrets, so these forms are refused unless the grant says `environment: true` (as `ps e`,
 * ps-environment.ts):
 * - systemctl (getopt, permuting: options anywhere before `--`, long ones in any unambiguous
 *   abbreviation): `cat` (the unit text, Environment= lines and all), `show-environment` (the
 *   manager's environment), `show` without `-p`/`--property`/`-P` or with an empty list (every
 *   property, Environment= among them; with no unit the manager's) or with a property naming the environment
 *   (`Environment`, `PassEnvironment`, `EnvironmentFiles`, ..., any case, or a pattern);
 * - docker, podman and nerdctl `inspect` (also `container inspect`, `image inspect`, ...:
 *   Config.Env), unless every `--format`/`-f` is a template of plain field chains (`{{.State.Status}}`)
 *   naming no Config, Spec or Env; `compose config` (the interpolated environment); podman's
 *   `kube generate`/`generate kube` (the pod YAML with its env);
 * - crictl `inspect`, `inspecti`, `inspectp`; pm2 `env`, `show`, `describe`, `info`, `jlist`,
 *   `prettylist` (pm2_env); any word of the line counts (their options are not modelled).
 * What is not: `systemctl status` (no environment), `show -p ActiveState`, `docker ps`, logs
 * (the service's own output).
 */
import { locateSubcommand, rootOptions } from './subcommand-options.js';

/** Programs whose grant may say `environment: true` for the forms above. */
export const SERVICE_ENVIRONMENT_READERS: readonly string[] = ['systemctl', 'docker', 'podman', 'nerdctl', 'crictl', 'pm2'];

/** systemctl's words: the operands (verb first) and the properties selected (-p, --property, -P), or why they cannot be told. */
function systemctlWords(args: readonly string[]): { operands: string[]; properties: string[] } | { unknown: string } {
  const table = rootOptions('systemctl');
  if (table === undefined) return { unknown: 'systemctl options are not modelled' };
  const longs = [...table.boolean, ...table.value].filter((o) => o.startsWith('--'));
  const operands: string[] = [];
  const properties: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (!w.startsWith('-') || w === '-') {
      operands.push(w);
      continue;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w : w.slice(0, eq);
      const hits = longs.includes(name) ? [name] : longs.filter((o) => o.startsWith(name));
      if (hits.length !== 1) return { unknown: `systemctl option ${name} is ${hits.length === 0 ? 'not one Warden knows' : 'an ambiguous abbreviation'}` };
      const opt = hits[0] as string;
      if (!table.value.includes(opt)) continue;
      const value = eq < 0 ? args[++i] : w.slice(eq + 1);
      if (opt === '--property') properties.push(value ?? '');
      continue;
    }
    for (let k = 1; k < w.length; k++) {
      const opt = `-${w[k] as string}`;
      if (table.boolean.includes(opt)) continue;
      if (!table.value.includes(opt)) return { unknown: `systemctl option ${opt} (in '${w}') is not one Warden knows` };
      const value = k + 1 < w.length ? w.slice(k + 1) : args[++i];
      if (opt === '-p' || opt === '-P') properties.push(value ?? '');
      break;
    }
  }
  return { operands, properties };
}

/** A property that prints the environment: its name holds "environment" (any case), or a pattern that might match one. */
const ENV_PROPERTY = /environment|[*?[\\]/i;

function systemctlReach(args: readonly string[]): string | null {
  const words = systemctlWords(args);
  if ('unknown' in words) {
    // An unknown option may take the next word or not: only a line that may run a reading verb is refused.
    const reader = args.find((a) => a === 'cat' || a === 'show' || a === 'show-environment');
    return reader === undefined ? null : `${words.unknown}, so whether systemctl ${reader} prints a unit's environment cannot be told`;
  }
  const verb = words.operands[0];
  if (verb === 'cat') return "systemctl cat prints the unit's file, its Environment= lines (and EnvironmentFile= paths) among them";
  if (verb === 'show-environment') return "systemctl show-environment prints the service manager's environment";
  if (verb !== 'show') return null;
  // `-p ''` alone selects nothing; several -p add up, each a comma-separated list.
  const named = words.properties.flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p.length > 0);
  // Fail closed on an empty list (`-p ''`), whatever systemd makes of it.
  if (named.length === 0) return 'systemctl show without -p/--property prints every property, Environment= among them';
  const env = named.find((p) => ENV_PROPERTY.test(p));
  return env === undefined ? null : `systemctl show property '${env}' prints the unit's environment`;
}

/** A Go template that prints only plain field chains naming no Config, Spec or Env (`{{.State.Status}}`). */
function plainTemplate(t: string): boolean {
  if (!t.includes('{{') || !/^(?:[^{}]|\{\{\s*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\s*\}\})*$/.test(t)) return false;
  const fields = [...t.matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string);
  return !fields.some((f) => /env|config|spec/i.test(f));
}

/** The --format/-f values of an inspect's words, or null when a short cluster may hide one. */
function formats(words: readonly string[]): string[] | null {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === '--') break;
    if (w === '--format' || w === '-f') out.push(words[++i] ?? '');
    else if (w.startsWith('--format=')) out.push(w.slice('--format='.length));
    else if (w.startsWith('-f')) out.push(w.slice(2).replace(/^=/, ''));
    else if (/^-[^-]/.test(w) && w.includes('f')) return null;
  }
  return out;
}

function containerReach(program: string, args: readonly string[]): string | null {
  const found = locateSubcommand(program, args);
  if (found.kind === 'undetermined') return `${found.why}, so whether it prints a container's environment cannot be told`;
  if (found.kind === 'none') return null;
  const sub = args[found.at] as string;
  const rest = args.slice(found.at + 1);
  const verb = sub === 'inspect' ? 'inspect' : rest.find((w) => !w.startsWith('-'));
  if (sub === 'compose' && rest.includes('config')) return `${program} compose config prints the project with its environment interpolated`;
  if ((sub === 'kube' && rest.includes('generate')) || (sub === 'generate' && rest.includes('kube'))) return `${program} ${sub} ${sub === 'kube' ? 'generate' : 'kube'} prints the pod's YAML, its containers' environment among it`;
  if (verb !== 'inspect') return null;
  const given = formats(rest);
  if (given !== null && given.length > 0 && given.every(plainTemplate)) return null;
  return `${program} ${sub === 'inspect' ? '' : `${sub} `}inspect prints the object's configuration, its environment (Config.Env) among it, unless --format is a template of plain fields naming no Config, Spec or Env`;
}

const WORD_READERS: Readonly<Record<string, { words: ReadonlySet<string>; what: string }>> = {
  crictl: { words: new Set(['inspect', 'inspecti', 'inspectp']), what: "prints the container's configuration, its environment among it" },
  pm2: { words: new Set(['env', 'show', 'describe', 'info', 'jlist', 'prettylist']), what: "prints the process's environment (pm2_env)" },
};

/** Why `program args` prints a service's or container's environment under a grant without `environment: true`, or null. */
export function serviceEnvironmentReach(program: string, args: readonly string[], environment: boolean): string | null {
  if (environment) return null;
  let why: string | null = null;
  if (program === 'systemctl') why = systemctlReach(args);
  else if (program === 'docker' || program === 'podman' || program === 'nerdctl') why = containerReach(program, args);
  else if (Object.hasOwn(WORD_READERS, program)) {
    const r = WORD_READERS[program] as { words: ReadonlySet<string>; what: string };
    const w = args.find((a) => r.words.has(a));
    if (w !== undefined) why = `${program} ${w} ${r.what}`;
  }
  return why === null ? null : `${why}, which may hold secrets; this grant does not say environment: true.`;
}
