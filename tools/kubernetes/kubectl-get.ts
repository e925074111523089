/**
 * `kubectl_get`: read objects of the kinds a rule chooses, as compact JSON with managedFields
 * dropped and Secret values masked unless a rule reveals the key the agent asked for (and the
 * Secret's type lets it be shown). Under pod_labels, events (by the object they are about),
 * workload objects (by their pod template) and services (by their selector) are judged one by
 * one, and nodes lose the fields that show their pods (event-scope.ts, workload-scope.ts,
 * service-scope.ts, node-scope.ts). Events are read from core/v1 only; Endpoints and
 * EndpointSlices (their targetRefs name pods) are not kinds it serves. Pods and pod templates
 * show only the containers the policy allows the call (`containers:`, container-scope.ts).
 * Termination messages and events' text are masked by the values of the pods' secret
 * environment (written-values.ts).
 */
import { z } from 'zod';
import { parseError, type ExecContext, type GovernedTool, type ToolOutput } from '../../src/tool-api.js';
import { cleanAnswer } from './clean.js';
import { scopeContainers } from './container-scope.js';
import { absentNamed } from './item-scope.js';
import { scopeEvents, type PodsSeen } from './event-scope.js';
import { scopeNodes } from './node-scope.js';
import { scopeServices } from './service-scope.js';
import { maskWrittenValues } from './written-values.js';
import { judgedByTemplate, scopeWorkloads } from './workload-scope.js';
import type { KubernetesConnection } from './config.js';
import type { KubeConnector } from './connector.js';
import { CLUSTER_KINDS, KINDS, type KubeFacts } from './facts.js';
import { dnsLabel, dnsSubdomain, formatLabelSelector, parseLabelSelector } from './names.js';
import { podFacts, relabelled, replaced, sameLabels } from './pod-facts.js';

/** Arguments of kubectl_get (POLICY.md, plus reveal_keys for secrets). */
export const getInput = z.strictObject({
  connection: z.string().min(1).max(128),
  kind: z.enum(KINDS),
  namespace: dnsLabel.optional(),
  name: dnsSubdomain.optional(),
  label_selector: z.string().max(1024).optional(),
  reveal_keys: z.array(z.string().regex(/^[-._a-zA-Z0-9]+$/).max(253)).max(32).optional(),
});

type GetInput = z.infer<typeof getInput>;

/** Items per page asked of the API server; more is reported as truncated. */
const PAGE = 500;

/** Notes told to the agent at most (one per Secret whose granted keys stayed masked can be many). */
const MAX_NOTES = 5;

function capNotes(notes: string[]): string[] {
  return notes.length <= MAX_NOTES ? notes : [...notes.slice(0, MAX_NOTES - 1), `${notes.length - MAX_NOTES + 1} more notes like these`];
}

/**
 * Under pod_labels, what this kind's answer shows of pods, judged by the labels of those pods
 * (each scope asks ExecContext.judge through item-scope.ts; kinds that show no pods pass).
 */
async function scopeAnswer(answer: unknown, facts: KubeFacts, ctx: ExecContext, c: KubeConnector, seen: PodsSeen): Promise<{ answer: unknown; notes: string[] }> {
  if (facts.kind === 'events') return scopeEvents(answer, facts, ctx, c, seen);
  if (facts.kind === 'services') return scopeServices(answer, facts, ctx);
  if (facts.kind === 'nodes') return scopeNodes(answer, facts, ctx);
  if (judgedByTemplate(facts)) return scopeWorkloads(answer, facts, ctx);
  return { answer, notes: [] };
}

/** Kinds whose items scopeAnswer judges one by one (nodes only lose fields). */
function judgedOneByOne(facts: KubeFacts): boolean {
  return facts.kind === 'events' || facts.kind === 'services' || judgedByTemplate(facts);
}

/** The API path of a kind (namespace null: cluster-scoped or all namespaces). */
export function kindPath(kind: string, namespace: string | null, name: string | null): string {
  const group = kind === 'deployments' ? '/apis/apps/v1' : '/api/v1';
  const ns = namespace !== null && !CLUSTER_KINDS.has(kind) ? `/namespaces/${namespace}` : '';
  return `${group}${ns}/${kind}${name !== null ? `/${name}` : ''}`;
}

/** Build the tool over the family's connectors. */
export function kubectlGetTool(connectorFor: (name: string) => KubeConnector): GovernedTool<GetInput, KubeFacts> {
  return {
    name: 'kubectl_get',
    factsFamily: 'kubernetes',
    title: 'Read Kubernetes objects (governed)',
    description:
      'Get one object (name) or list objects of a kind (pods, deployments, services, configmaps, events, nodes, namespaces, ' +
      'secrets) in a namespace, optionally filtered by an equality label_selector (a=b,c!=d). Secret values are masked; ' +
      'reveal_keys asks for specific keys in clear, which a rule must grant (credentials of typed Secrets, such as ' +
      'service-account tokens and TLS private keys, stay masked). Events about pods (or objects selecting pods) you may not read, and deployments ' +
      'and services whose pods you may not read, are withheld; under a pod-label grant nodes are shown without the ' +
      'images and volumes of their pods; under a grant limited to some containers, pods show only those containers.',
    connectionTypes: ['kubernetes'],
    input: getInput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async parse(input, ctx) {
      const cluster = CLUSTER_KINDS.has(input.kind);
      if (cluster && input.namespace !== undefined) throw parseError(`${input.kind} are cluster-scoped: omit namespace`);
      const sel = input.label_selector !== undefined ? parseLabelSelector(input.label_selector) : null;
      if (input.label_selector !== undefined && sel === null) throw parseError('label_selector must be equality-based: key=value, key!=value, key or !key, separated by commas');
      if (input.reveal_keys?.length && input.kind !== 'secrets') throw parseError('reveal_keys applies to secrets only');
      const namespace = cluster ? null : (input.namespace ?? null);
      const name = input.name ?? null;
      const pod = input.kind === 'pods' && name !== null && namespace !== null
        ? await podFacts(connectorFor(ctx.connection!.name), namespace, name, undefined)
        : { podLabels: null, podLookup: 'not-applicable' as const, podUid: null };
      const selText = sel ? formatLabelSelector(sel) : '';
      return {
        family: 'kubernetes',
        summary: `${name ? 'get' : 'list'} ${namespace ?? (cluster ? '' : '(all namespaces)')}${namespace || !cluster ? '/' : ''}${input.kind}${name ? `/${name}` : ''}${selText ? ` -l ${selText}` : ''}`,
        verb: name ? 'get' : 'list',
        kind: input.kind,
        namespace,
        name,
        container: null,
        podLabels: pod.podLabels,
        podLookup: pod.podLookup,
        podUid: pod.podUid,
        labelSelector: sel,
        revealKeys: [...new Set(input.reveal_keys ?? [])].sort(),
      };
    },
    isReadOnly() {
      return true;
    },
    // A named pod's approval binds its uid (a pod replaced under the same name is another call).
    // Where the connection's kubeconfig points (cluster server, CA, user name and auth kind), bound with an approval.
    connectionTarget(connection) {
      return connectorFor(connection.name).approvalTarget();
    },
    canonicalArgs(input, facts) {
      return facts.podUid ? { ...input, pod_uid: facts.podUid } : input;
    },
    async execute(input, facts, ctx): Promise<ToolOutput> {
      const conn = ctx.connection as unknown as KubernetesConnection;
      const q = new URLSearchParams();
      if (facts.name === null) {
        q.set('limit', String(PAGE));
        if (facts.labelSelector?.length) q.set('labelSelector', formatLabelSelector(facts.labelSelector));
      }
      const path = kindPath(facts.kind, facts.namespace, facts.name) + (q.size ? `?${q.toString()}` : '');
      // A named item judged one by one (scopeAnswer) that does not exist is refused as one
      // outside the grant is: a 404 would say which (item-scope.ts absentNamed).
      const answer = await connectorFor(conn.name).getJson(path, `${facts.verb} ${facts.kind}`, { signal: ctx.signal })
        .catch((e: unknown) => { throw judgedOneByOne(facts) ? absentNamed(facts, ctx, e) : e; });
      if (facts.kind === 'pods' && facts.name !== null && facts.podLookup === 'found') {
        // The pod read now must be the one the policy judged (an approval wait, a StatefulSet
        // pod recreated, labels overwritten): compare the answer itself, no second request.
        const meta = (answer as { metadata?: { uid?: unknown; labels?: unknown } } | null)?.metadata;
        if (!facts.podUid || meta?.uid !== facts.podUid) throw replaced(facts.namespace ?? '', facts.name, 'nothing is returned');
        if (!sameLabels(facts.podLabels, meta.labels ?? {})) throw relabelled(facts.namespace ?? '', facts.name, 'nothing is returned');
      }
      // Events (by their object), workload objects and services are judged one by one
      // with the labels of their pods; nodes lose their pods' fields (scopeAnswer).
      const seen: PodsSeen = {};
      const scoped = await scopeAnswer(answer, facts, ctx, connectorFor(conn.name), seen);
      // Termination messages and events' text lose the values the pods' environments take from
      // Secrets (written-values.ts); before containers are withheld: a shown container may print
      // a withheld one's environment (a shared process namespace).
      const written = await maskWrittenValues(facts.kind, scoped.answer, connectorFor(conn.name), facts.namespace, seen, ctx.signal);
      // Pods and pod templates show only the containers the policy allows this call (containers:).
      const contained = scopeContainers(written.answer, facts, ctx);
      const notes = [...scoped.notes, ...contained.notes, ...(written.note ? [written.note] : [])];
      const { items, more } = cleanAnswer(facts.kind, contained.answer, new Set(facts.revealKeys), notes);
      const cap = Math.min(conn.max_bytes, ctx.limits.maxBytes);
      const kept: unknown[] = [];
      let bytes = 0;
      let truncated = more;
      for (const it of items) {
        const n = Buffer.byteLength(JSON.stringify(it));
        if (bytes + n > cap) {
          truncated = true;
          break;
        }
        bytes += n;
        kept.push(it);
      }
      const data = facts.name !== null && kept.length === 1 ? kept[0] : { kind: facts.kind, items: kept };
      if (truncated) notes.unshift('more objects exist; narrow with name or label_selector');
      return { kind: 'json', data, truncated, ...(notes.length ? { notes: capNotes(notes) } : {}) };
    },
  };
}
