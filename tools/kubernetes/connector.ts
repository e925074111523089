/**
 * One kubernetes connection: the kubeconfig (a secret reference) loaded with
 * @kubernetes/client-node, which applies token, client-certificate or exec-plugin auth, and
 * bounded reads and exec streams against the API server it names.
 */
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { ErrorCode, WardenError, type SecretResolver } from '../../src/tool-api.js';
import type { KubernetesConnection } from './config.js';
import { execStream, type ExecResult } from './exec-stream.js';
import { KubeApiError, boundedGet, kubeError, type RequestTarget } from './http.js';
import { reachOf, type ContainerReach } from './container-reach.js';
import { sharedMountsOf, type SharedMount } from './volume-reach.js';
import { nodeReachOf } from './node-reach.js';
import { secretMountsOf } from './secret-mounts.js';
import { secretEnvOf, type SecretEnv } from './secret-env.js';
import { kubeTarget } from './connection-target.js';

/** What the pod lookup returns (before exec and logs). */
export interface PodInfo {
  uid: string;
  labels: Record<string, string>;
  containers: string[];
  defaultContainer: string | null;
  /** Every container and what each shares (container-reach.ts). */
  reach: ContainerReach;
  /** Container -> its mounts of volumes other pods can mount too (volume-reach.ts). */
  shared: Record<string, SharedMount[]>;
  /** Container -> why it reaches its node and every pod on it (node-reach.ts); others absent. */
  node: Record<string, string>;
  /** Container -> the mountPaths of the Secret volumes it mounts (secret-mounts.ts); others absent. */
  secretMounts: Record<string, string[]>;
  /** The Secrets its containers take environment variables from, and secret-named literal values (secret-env.ts). */
  secretEnv: SecretEnv;
}

/** A pod lookup that did not find a pod (not an error: policy decides first). */
export type PodLookupResult = { state: 'found'; pod: PodInfo } | { state: 'not-found' | 'forbidden' };

/** Objects per page, and pages at most, when every pod's (or pod template's) labels are needed (listAll). */
const LIST_PAGE = 250;
const MAX_LIST_PAGES = 40;

/** A pod object's labels, uid and containers (what pod_labels and containers rules judge). */
function podInfoOf(raw: unknown): PodInfo {
  const p = raw as { metadata?: { uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: { containers?: { name?: string }[] } } | null;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(p?.metadata?.labels ?? {})) if (typeof v === 'string') labels[k] = v;
  const containers = (p?.spec?.containers ?? []).map((c) => c.name).filter((n): n is string => typeof n === 'string');
  const annotated = p?.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  return {
    uid: typeof p?.metadata?.uid === 'string' ? p.metadata.uid : '',
    labels,
    containers,
    defaultContainer: typeof annotated === 'string' && containers.includes(annotated) ? annotated : (containers[0] ?? null),
    reach: reachOf(p?.spec),
    shared: sharedMountsOf(raw),
    node: nodeReachOf(raw),
    secretMounts: secretMountsOf(p?.spec),
    secretEnv: secretEnvOf(p?.spec),
  };
}

/** The API server of one connection. */
export class KubeConnector {
  private kc: Promise<KubeConfig> | null = null;
  private agent: https.Agent | null = null;

  constructor(
    readonly conn: KubernetesConnection,
    private readonly secrets: SecretResolver,
  ) {}

  private config(): Promise<KubeConfig> {
    // The client library is large: load it on first use, so servers without Kubernetes calls start fast.
    this.kc ??= Promise.all([this.secrets.resolve(this.conn.kubeconfig), import('@kubernetes/client-node')]).then(([text, k8s]) => {
      const kc = new k8s.KubeConfig();
      try {
        kc.loadFromString(text);
      } catch {
        throw new WardenError(ErrorCode.CONFIG, `connection ${this.conn.name}: the kubeconfig cannot be parsed`);
      }
      if (this.conn.context) {
        if (!kc.getContexts().some((c) => c.name === this.conn.context)) {
          throw new WardenError(ErrorCode.CONFIG, `connection ${this.conn.name}: context "${this.conn.context}" is not in the kubeconfig`);
        }
        kc.setCurrentContext(this.conn.context);
      }
      const cluster = kc.getCurrentCluster();
      if (!cluster || !/^https?:\/\//.test(cluster.server)) throw new WardenError(ErrorCode.CONFIG, `connection ${this.conn.name}: the kubeconfig context has no cluster server`);
      return kc;
    });
    this.kc.catch(() => (this.kc = null));
    return this.kc;
  }

  /** Where this connection reaches, for an approval's binding (connection-target.ts); never a credential. */
  async approvalTarget(): Promise<string> {
    const kc = await this.config();
    return kubeTarget(this.conn.name, kc.getCurrentCluster()!, kc.getCurrentUser());
  }

  /** Fresh auth for each call (exec plugins and rotated tokens), one keep-alive agent. */
  private async target(): Promise<RequestTarget> {
    const kc = await this.config();
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const cluster = kc.getCurrentCluster()!;
    const tls: https.RequestOptions = {};
    for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const) {
      if (opts[k] !== undefined) (tls as Record<string, unknown>)[k] = opts[k];
    }
    if (cluster.skipTLSVerify) tls.rejectUnauthorized = false;
    if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
    this.agent ??= new https.Agent({ keepAlive: true, maxSockets: 16, ...(tls as https.AgentOptions) });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    return { origin: new URL(cluster.server), headers, tls, agent: this.agent };
  }

  private pathOf(t: RequestTarget, path: string): string {
    const base = t.origin.pathname.replace(/\/$/, '');
    return base + path;
  }

  /** GET a JSON object; refuses bodies over the cap rather than parsing half of one. */
  async getJson(path: string, what: string, o: { signal?: AbortSignal; maxBytes?: number } = {}): Promise<unknown> {
    try {
      const t = await this.target();
      const cap = o.maxBytes ?? this.conn.max_bytes * 8;
      const r = await boundedGet(t, this.pathOf(t, path), { timeoutMs: this.conn.request_timeout, maxBytes: cap, accept: 'application/json', signal: o.signal });
      if (r.truncated) throw new WardenError(ErrorCode.BACKEND, `the answer is larger than ${cap} bytes; narrow it with a name, namespace or label_selector`);
      return JSON.parse(r.body.toString('utf8'));
    } catch (e) {
      if (e instanceof SyntaxError) throw new WardenError(ErrorCode.BACKEND, `the API server answered with malformed JSON while trying to ${what}`);
      throw kubeError(e, this.conn.name, what);
    }
  }

  /** GET text (logs) with a byte cap. */
  async getText(path: string, what: string, o: { signal?: AbortSignal; maxBytes: number }): Promise<{ text: string; truncated: boolean }> {
    try {
      const t = await this.target();
      const r = await boundedGet(t, this.pathOf(t, path), { timeoutMs: this.conn.request_timeout, maxBytes: o.maxBytes, accept: 'text/plain, */*', signal: o.signal });
      return { text: r.body.toString('utf8'), truncated: r.truncated };
    } catch (e) {
      throw kubeError(e, this.conn.name, what);
    }
  }

  /** Read a pod's labels and containers; 404 and 403 are answers, other failures throw. */
  async lookupPod(namespace: string, pod: string, signal?: AbortSignal): Promise<PodLookupResult> {
    let raw: unknown;
    try {
      const t = await this.target();
      const r = await boundedGet(t, this.pathOf(t, `/api/v1/namespaces/${namespace}/pods/${pod}`), {
        timeoutMs: this.conn.request_timeout, maxBytes: 4 * 1024 * 1024, accept: 'application/json', signal,
      });
      raw = JSON.parse(r.body.toString('utf8'));
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return { state: 'not-found' };
      if (e instanceof KubeApiError && e.status === 403) return { state: 'forbidden' };
      if (e instanceof SyntaxError) throw new WardenError(ErrorCode.BACKEND, 'the API server answered with malformed JSON while reading the pod');
      throw kubeError(e, this.conn.name, `read pod ${namespace}/${pod}`);
    }
    return { state: 'found', pod: podInfoOf(raw) };
  }

  /**
   * Every pod of a namespace (null: of all namespaces), keyed `namespace/name`. Why: judging a
   * list of events needs the labels of the pods they are about, in one read per page rather
   * than one per event.
   */
  listPods(namespace: string | null, signal?: AbortSignal): Promise<Map<string, PodInfo>> {
    return this.listAll('/api/v1', 'pods', namespace, podInfoOf, signal);
  }

  /**
   * Every object of a resource (`group` such as `/apis/apps/v1`) in a namespace (null: all),
   * keyed `namespace/name` and reduced by `infoOf`, read page by page. More than
   * MAX_LIST_PAGES pages is refused (fail closed) rather than judged against part of them.
   */
  async listAll<T>(group: string, resource: string, namespace: string | null, infoOf: (raw: unknown) => T, signal?: AbortSignal): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    let cont = '';
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const q = new URLSearchParams({ limit: String(LIST_PAGE) });
      if (cont) q.set('continue', cont);
      const path = `${group}${namespace !== null ? `/namespaces/${namespace}` : ''}/${resource}?${q.toString()}`;
      const answer = (await this.getJson(path, `list ${resource}${namespace !== null ? ` in ${namespace}` : ''}`, { signal })) as { items?: unknown; metadata?: { continue?: unknown } } | null;
      if (!answer || !Array.isArray(answer.items)) throw new WardenError(ErrorCode.BACKEND, `the API server answered a ${resource} list without items`);
      for (const it of answer.items) {
        const m = (it as { metadata?: { namespace?: unknown; name?: unknown } } | null)?.metadata;
        if (typeof m?.name === 'string') out.set(`${typeof m.namespace === 'string' ? m.namespace : (namespace ?? '')}/${m.name}`, infoOf(it));
      }
      cont = typeof answer.metadata?.continue === 'string' ? answer.metadata.continue : '';
      if (!cont) return out;
    }
    throw new WardenError(ErrorCode.BACKEND, `more than ${MAX_LIST_PAGES * LIST_PAGE} ${resource} to read; their labels cannot all be checked, so nothing is returned`);
  }

  /** Exec argv in a container over the channel subprotocols; stdin and tty stay off. */
  async exec(namespace: string, pod: string, container: string, argv: string[], o: { timeoutMs: number; maxBytes: number; signal?: AbortSignal }): Promise<ExecResult> {
    const what = `exec in pod ${namespace}/${pod}`;
    try {
      const t = await this.target();
      const q = new URLSearchParams();
      for (const a of argv) q.append('command', a);
      q.set('container', container);
      q.set('stdout', 'true');
      q.set('stderr', 'true');
      const url = new URL(this.pathOf(t, `/api/v1/namespaces/${namespace}/pods/${pod}/exec`) + `?${q.toString()}`, t.origin);
      return await execStream({ url, headers: t.headers, tls: t.tls, protocols: this.conn.exec_protocols, timeoutMs: o.timeoutMs, maxBytes: o.maxBytes, signal: o.signal });
    } catch (e) {
      throw kubeError(e, this.conn.name, what);
    }
  }

  async close(): Promise<void> {
    this.agent?.destroy();
    this.agent = null;
  }
}
