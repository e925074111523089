/**
 * Subcommands that run a command Warden cannot read: a kubectl plugin (kubectl runs
 * `kubectl-NAME` from PATH for any subcommand it does not build in, and since 1.30
 * `kubectl-create-NAME` for `kubectl create NAME`), `podman container runlabel` (the command an
 * image label gives, on the host) and `podman pod create|clone --infra-command` (the pod's infra
 * container's command). An allow refuses them (a plugin only when `subcommands:` does not name
 * it, condition.ts), a deny rule treats them as running any program (exec-hops.ts).
 */
import { locateSubcommand } from './subcommand-options.js';

// kubectl 1.3x `kubectl --help`, plus what cobra adds (help, completion requests): for these kubectl looks up no plugin.
const KUBECTL_BUILTINS: ReadonlySet<string> = new Set([
  'create', 'expose', 'run', 'set', 'explain', 'get', 'edit', 'delete', 'rollout', 'scale', 'autoscale', 'certificate', 'cluster-info',
  'top', 'cordon', 'uncordon', 'drain', 'taint', 'describe', 'logs', 'attach', 'exec', 'port-forward', 'proxy', 'cp', 'auth', 'debug',
  'events', 'diff', 'apply', 'patch', 'replace', 'wait', 'kustomize', 'label', 'annotate', 'completion', 'alpha', 'api-resources',
  'api-versions', 'config', 'plugin', 'version', 'options', 'help', '__complete', '__completeNoDesc',
]);
// `kubectl create --help` (1.3x): kubectl compares names only, so an alias (`cm`, `ns`) may still be a plugin.
const KUBECTL_CREATE: ReadonlySet<string> = new Set([
  'clusterrole', 'clusterrolebinding', 'configmap', 'cronjob', 'deployment', 'ingress', 'job', 'namespace', 'poddisruptionbudget',
  'priorityclass', 'quota', 'role', 'rolebinding', 'secret', 'service', 'serviceaccount', 'token',
]);

const operand = (w: string | undefined): w is string => w !== undefined && !w.startsWith('-');

/**
 * The kubectl plugin `kubectl args` may run, or null. kubectl looks for one only when the first
 * word is a subcommand it does not build in (no option may stand before a plugin's name), or is
 * `create` followed by one `create` does not build in; a computed word may be either.
 */
export function kubectlPlugin(args: readonly string[]): { word: string; why: string } | null {
  const [first, second] = args;
  if (!operand(first)) return null;
  if (!KUBECTL_BUILTINS.has(first)) return { word: first, why: `kubectl ${first} is not a built-in subcommand, so it runs the plugin kubectl-${first}` };
  if (first === 'create' && operand(second) && !KUBECTL_CREATE.has(second)) {
    return { word: `${first} ${second}`, why: `kubectl create ${second} is not a built-in subcommand, so it runs the plugin kubectl-create-${second}` };
  }
  return null;
}

const INFRA = /^--infra-command(=|$)/;

/** Why `podman args` runs a command Warden cannot read (runlabel, --infra-command), or null. */
export function podmanUnread(args: readonly string[]): string | null {
  const sub = locateSubcommand('podman', args);
  if (sub.kind === 'none') return null;
  // Behind options Warden does not model, any word may be the subcommand: generously, any such word.
  const rest = sub.kind === 'word' ? args.slice(sub.at) : args;
  const [word, verb] = sub.kind === 'word' ? [rest[0], rest.slice(1).find(operand)] : [undefined, undefined];
  const runlabel = sub.kind === 'word' ? word === 'runlabel' || (word === 'container' && verb === 'runlabel') : rest.includes('runlabel');
  if (runlabel) return 'podman runlabel runs the command an image label gives, on the host';
  const pod = sub.kind === 'word' ? word === 'pod' && (verb === 'create' || verb === 'clone') : true;
  if (pod && rest.some((w) => INFRA.test(w))) return 'podman pod --infra-command sets the command of the pod\'s infra container';
  return null;
}
