/**
 * `kubectl_exec`: argv only, never an implicit shell. `sh|bash|ash|dash -c SCRIPT` is the one
 * shell form, and its script is parsed and judged by the same `shell:` rules as ssh_run. The
 * pod's labels and default container come from the API server before the decision. Output
 * loses the values of secret-named assignments (`DB_PASSWORD=...` printed by `env`), and the
 * values the pod's environment takes from Secrets under any name (secret-env.ts).
 */
import { z } from 'zod';
import { ErrorCode, WardenError, type GovernedTool, type ToolOutput } from '../../src/tool-api.js';
import { canonicalCommandLine, initShellParser, parseArgv, startupEnvironment, unwrapShellC, withoutStartupFiles, type ShellFacts } from '../shared/shell/index.js';
import type { KubernetesConnection } from './config.js';
import type { KubeConnector } from './connector.js';
import type { KubeExecFacts } from './facts.js';
import { dnsLabel, dnsSubdomain } from './names.js';
import { assertAnsweredBySamePod, assertKnownContainer, assertSamePod, podFacts } from './pod-facts.js';
import { assertSharedVolumesWithinGrant } from './shared-volumes.js';
import { assertNodeReachWithinGrant } from './node-reach.js';
import { secretNote } from '../shared/secret-text.js';
import { maskCommandOutput } from '../shared/line-windows.js';
import { maskSecretValues, secretEnvNote, secretEnvValues } from './secret-env.js';

/** Arguments of kubectl_exec (POLICY.md). */
export const execInput = z.strictObject({
  connection: z.string().min(1).max(128),
  namespace: dnsLabel,
  pod: dnsSubdomain,
  container: dnsLabel.optional(),
  command: z.array(z.string().max(8192)).min(1, 'command must name a program').max(256),
  timeout_s: z.number().int().min(1).max(3600).optional(),
});

type ExecInput = z.infer<typeof execInput>;

const execOutput = z.looseObject({
  stdout: z.string(),
  stderr: z.string(),
  exit_code: z.number().nullable(),
  truncated: z.boolean(),
});

/**
 * The argv that runs: the argv as given (psql, mysql and sqlite3 told to skip their start-up
 * files, git guarded and started through `env` with GIT_CEILING_DIRECTORIES), or `sh -c` with
 * the script rebuilt from its parsed words.
 */
export function argvToRun(facts: KubeExecFacts): string[] {
  if (facts.source !== 'sh-c') {
    const [program, ...args] = facts.argv as [string, ...string[]];
    // git's GIT_CEILING_DIRECTORIES, with no shell to take an assignment: through env.
    const env = startupEnvironment(program, args).map(([name, value]) => `${name}=${value}`);
    return [...(env.length > 0 ? ['env', ...env] : []), program, ...withoutStartupFiles(program, args)];
  }
  const extra = facts.constructs.filter((c) => c !== 'pipeline');
  // A script with more than pipes can only have been allowed by a rule without a shell: block;
  // it runs as analysed. Otherwise the shell sees only quoted words and pipes.
  const script = extra.length === 0 ? canonicalCommandLine(facts as unknown as ShellFacts) : (facts.argv[2] as string);
  return [facts.argv[0] as string, '-c', script];
}

/** The argv that would run; null when it cannot be rebuilt (the deny cooldown then keys on the argv as sent). */
function canonicalArgv(facts: KubeExecFacts): string[] | null {
  try {
    return argvToRun(facts);
  } catch {
    return null;
  }
}

async function podGone(c: KubeConnector, namespace: string, pod: string, uid: string | null): Promise<boolean> {
  const now = await c.lookupPod(namespace, pod).catch(() => null);
  return now !== null && (now.state === 'not-found' || (now.state === 'found' && now.pod.uid !== uid));
}

function deleted(namespace: string, pod: string): WardenError {
  return new WardenError(ErrorCode.BACKEND, `pod ${namespace}/${pod} was deleted (or replaced) while the command ran; its output is incomplete`);
}

/** Build the tool over the family's connectors. */
export function kubectlExecTool(connectorFor: (name: string) => KubeConnector): GovernedTool<ExecInput, KubeExecFacts> {
  return {
    name: 'kubectl_exec',
    factsFamily: 'kubernetes-exec',
    title: 'Run a command in a Kubernetes pod (governed)',
    description:
      'Run one command (an argv array, no shell) in a container of a pod. `["sh","-c","SCRIPT"]` is accepted and the script is ' +
      'checked by the same shell rules. The pod labels, namespace and container are checked against policy; output is capped ' +
      'and masked. Use list_connections to see what you may reach.',
    connectionTypes: ['kubernetes'],
    input: execInput,
    output: execOutput,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    async parse(input, ctx) {
      await initShellParser();
      const shell = unwrapShellC(input.command) ?? parseArgv(input.command);
      const pod = await podFacts(connectorFor(ctx.connection!.name), input.namespace, input.pod, input.container, 'exec');
      const line = input.command.map((a) => (/^[\w./:=@%+,-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
      const facts: KubeExecFacts = {
        family: 'kubernetes-exec',
        // A cut is marked (as the shell summary's): the card's "Parsed:" line once ended silently at 200.
        summary: `exec ${input.namespace}/${input.pod}${pod.container ? `[${pod.container}]` : ''}: ${line.length > 200 ? `${line.slice(0, 199)}…` : line}`,
        verb: 'exec',
        kind: 'pods',
        namespace: input.namespace,
        name: input.pod,
        ...pod,
        labelSelector: null,
        revealKeys: [],
        argv: input.command,
        commands: shell.commands,
        pipelines: shell.pipelines,
        constructs: shell.constructs,
        source: shell.source,
      };
      return facts;
    },
    isReadOnly() {
      return false;
    },
    // The pod's uid too: the call after WARDEN_APPROVAL_PENDING parses afresh, and a pod replaced
    // under the same name in between (another image, another volume) is not the one approved.
    // Where the connection's kubeconfig points (cluster server, CA, user name and auth kind), bound with an approval.
    connectionTarget(connection) {
      return connectorFor(connection.name).approvalTarget();
    },
    canonicalArgs(input, facts) {
      return { connection: input.connection, namespace: input.namespace, pod: input.pod, pod_uid: facts.podUid, container: facts.container, command: input.command, timeout_s: input.timeout_s ?? null };
    },
    // The argv as it would run (an `sh -c` script rebuilt from its words): respelled scripts share it.
    cooldownArgs(input, facts) {
      return { connection: input.connection, namespace: input.namespace, pod: input.pod, pod_uid: facts.podUid, container: facts.container, command: canonicalArgv(facts) ?? input.command, timeout_s: input.timeout_s ?? null };
    },
    async execute(input, facts, ctx): Promise<ToolOutput> {
      const conn = ctx.connection as unknown as KubernetesConnection;
      const c = connectorFor(conn.name);
      if (facts.podLookup === 'not-found') throw new WardenError(ErrorCode.BACKEND, `pod ${input.namespace}/${input.pod} not found`);
      if (facts.podLookup === 'forbidden') throw new WardenError(ErrorCode.BACKEND, `the API server forbids reading pod ${input.namespace}/${input.pod} (403 Forbidden)`);
      if (facts.container === null) throw new WardenError(ErrorCode.BACKEND, `pod ${input.namespace}/${input.pod} has no container`);
      assertKnownContainer(input.namespace, input.pod, facts.container, facts.alsoReaches);
      // An ephemeral container added since the decision may mount a volume this one mounts, or
      // target it and so share its processes.
      const reach = { container: facts.container, alsoReaches: facts.alsoReaches, action: 'exec' as const };
      const now = await assertSamePod(c, input.namespace, input.pod, facts.podUid, ctx.signal, facts.podLabels, reach);
      // hostPID, privileged, a hostPath over the node's pod data: every pod on the node (node-reach.ts).
      assertNodeReachWithinGrant(ctx, facts, now.node);
      // A hostPath, claim or network volume it mounts reaches the other pods mounting it (shared-volumes.ts).
      await assertSharedVolumesWithinGrant(c, ctx, facts, now, ctx.signal);
      // What the pod's environment holds under any name (Secret values, secret-named ConfigMap values
      // and literals): masked by value in the output; an unreadable Secret refuses here (secret-env.ts).
      const values = await secretEnvValues(c, input.namespace, now.secretEnv, ctx.signal);
      const timeoutMs = Math.min((input.timeout_s ?? Infinity) * 1000, conn.exec_timeout);
      let r;
      try {
        r = await c.exec(input.namespace, input.pod, facts.container, argvToRun(facts), { timeoutMs, maxBytes: Math.min(conn.max_bytes, ctx.limits.maxBytes), signal: ctx.signal });
      } catch (e) {
        if (e instanceof WardenError && e.code === ErrorCode.BACKEND && (await podGone(c, input.namespace, input.pod, facts.podUid))) throw deleted(input.namespace, input.pod);
        throw e;
      }
      // The exec API names the pod, not its uid: one more read says whether the judged pod is
      // the one that answered (a pod killed because it was deleted is refused here too).
      await assertAnsweredBySamePod(c, input.namespace, input.pod, facts.podUid, facts.podLabels, 'exec', ctx.signal, reach);
      // `env`, a config file: the values kubectl_get masks by name in the pod spec (shared/secret-text.ts).
      const bare = maskSecretValues({ stdout: r.stdout, stderr: r.stderr }, values.sourced, r.truncated);
      const named = maskCommandOutput(bare.streams, facts.commands);
      const { streams, masked } = maskSecretValues(named.streams, values.literals, r.truncated);
      const notes = [secretEnvNote(bare.masked + masked), secretNote(named.masked)].filter((n): n is string => n !== null);
      return { kind: 'text', streams, exitCode: r.exitCode, truncated: r.truncated, ...(notes.length ? { notes } : {}) };
    },
  };
}
