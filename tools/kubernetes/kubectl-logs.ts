/**
 * `kubectl_logs`: the tail of a container's log, bounded by lines, time and bytes. Following
 * is refused (a tool call returns once). The pod's labels come from the API server first.
 * Values of secret-named assignments in the log are masked, and the values the pod's
 * environment takes from Secrets under any name (secret-env.ts).
 */
import { z } from 'zod';
import { ErrorCode, WardenError, type GovernedTool, type ToolOutput } from '../../src/tool-api.js';
import type { KubernetesConnection } from './config.js';
import type { KubeConnector } from './connector.js';
import type { KubeFacts } from './facts.js';
import { dnsLabel, dnsSubdomain } from './names.js';
import { assertAnsweredBySamePod, assertKnownContainer, assertSamePod, podFacts } from './pod-facts.js';
import { secretNote } from '../shared/secret-text.js';
import { LogContextMissing, readLogWindow } from './log-window.js';
import { maskSecretValues, secretEnvNote, secretEnvValues } from './secret-env.js';

/** Arguments of kubectl_logs (POLICY.md). */
export const logsInput = z.strictObject({
  connection: z.string().min(1).max(128),
  namespace: dnsLabel,
  pod: dnsSubdomain,
  container: dnsLabel.optional(),
  tail_lines: z.number().int().min(1).max(100_000).optional(),
  since_s: z.number().int().min(1).max(30 * 86_400).optional(),
});

type LogsInput = z.infer<typeof logsInput>;

/** Lines returned when the agent does not say. */
const DEFAULT_TAIL = 500;

/** Build the tool over the family's connectors. */
export function kubectlLogsTool(connectorFor: (name: string) => KubeConnector): GovernedTool<LogsInput, KubeFacts> {
  return {
    name: 'kubectl_logs',
    factsFamily: 'kubernetes',
    title: 'Read a pod container log (governed)',
    description: `Read the last lines of a container log (tail_lines, default ${DEFAULT_TAIL}; since_s). Output is capped and masked; follow is not offered.`,
    connectionTypes: ['kubernetes'],
    input: logsInput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async parse(input, ctx) {
      const pod = await podFacts(connectorFor(ctx.connection!.name), input.namespace, input.pod, input.container, 'logs');
      return {
        family: 'kubernetes',
        summary: `logs ${input.namespace}/${input.pod}${pod.container ? `[${pod.container}]` : ''} tail ${input.tail_lines ?? DEFAULT_TAIL}${input.since_s ? ` since ${input.since_s}s` : ''}`,
        verb: 'logs',
        kind: 'pods',
        namespace: input.namespace,
        name: input.pod,
        ...pod,
        labelSelector: null,
        revealKeys: [],
      };
    },
    isReadOnly() {
      return true;
    },
    // An approval binds the pod (its uid) and the container read, as kubectl_exec's does.
    // Where the connection's kubeconfig points (cluster server, CA, user name and auth kind), bound with an approval.
    connectionTarget(connection) {
      return connectorFor(connection.name).approvalTarget();
    },
    canonicalArgs(input, facts) {
      return { connection: input.connection, namespace: input.namespace, pod: input.pod, pod_uid: facts.podUid, container: facts.container, tail_lines: input.tail_lines ?? null, since_s: input.since_s ?? null };
    },
    async execute(input, facts, ctx): Promise<ToolOutput> {
      const conn = ctx.connection as unknown as KubernetesConnection;
      const c = connectorFor(conn.name);
      if (facts.podLookup === 'not-found') throw new WardenError(ErrorCode.BACKEND, `pod ${input.namespace}/${input.pod} not found`);
      if (facts.podLookup === 'forbidden') throw new WardenError(ErrorCode.BACKEND, `the API server forbids reading pod ${input.namespace}/${input.pod} (403 Forbidden)`);
      if (facts.container !== null) assertKnownContainer(input.namespace, input.pod, facts.container, facts.alsoReaches);
      const now = await assertSamePod(c, input.namespace, input.pod, facts.podUid, ctx.signal, facts.podLabels);
      // What the pod's environment holds under any name, masked by value in the log; an unreadable
      // Secret refuses here (secret-env.ts).
      const values = await secretEnvValues(c, input.namespace, now.secretEnv, ctx.signal);
      const cap = Math.min(conn.max_bytes, ctx.limits.maxBytes);
      // The lines just before the window are masked with it: a value whose name is on one of
      // them is masked too (log-window.ts).
      const read = await readLogWindow(c, {
        path: `/api/v1/namespaces/${input.namespace}/pods/${input.pod}/log`, container: facts.container, tailLines: input.tail_lines ?? DEFAULT_TAIL,
        ...(input.since_s ? { sinceSeconds: input.since_s } : {}), cap, what: `${input.namespace}/${input.pod}`, values: values.sourced, signal: ctx.signal,
      }).catch((e: unknown) => {
        if (e instanceof LogContextMissing) return { failed: e };
        throw e;
      });
      // The log API names the pod, not its uid: the pod that answered must still be the judged
      // one (asked first when the read failed: a replaced pod's log need not line up).
      await assertAnsweredBySamePod(c, input.namespace, input.pod, facts.podUid, facts.podLabels, 'logs', ctx.signal);
      if ('failed' in read) throw read.failed;
      const r = read;
      // The spec's secret-named literals after names (secret-env.ts secretEnvValues).
      const lit = maskSecretValues({ log: r.log }, values.literals, r.truncated);
      const notes = [secretEnvNote(r.maskedValues + lit.masked), secretNote(r.masked)].filter((n): n is string => n !== null);
      return { kind: 'text', streams: lit.streams, exitCode: null, truncated: r.truncated, ...(notes.length ? { notes } : {}) };
    },
  };
}
