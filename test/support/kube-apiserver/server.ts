/**
 * A protocol-faithful Kubernetes API server for tests: HTTPS with a generated CA, bearer-token
 * and client-certificate auth, RBAC answers (403), the REST reads Warden and kubectl use,
 * discovery, server-side Tables, pods/log, and pods/exec upgraded to WebSocket (v4/v5 channel
 * protocols) or SPDY/3.1 (what older kubectl speaks), running argv for real per pod.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { authenticate, forbidden, status, type KubeUser, type TokenEntry } from './auth.js';
import { discovery } from './discovery.js';
import { runExec, type RunningExec } from './exec-runner.js';
import { createExecWsServer, serveExecWs } from './exec-ws.js';
import { serveExecSpdy } from './exec-spdy.js';
import { page, selectorMatches, toTable } from './lists.js';
import { allContainerNames, podLog } from './logs.js';
import { CLUSTER_SCOPED, RESOURCES, type KObject, type Store } from './store.js';
import type { TestPki } from './certs.js';

/** One request as the server saw it (for assertions). */
export interface RequestRecord {
  method: string;
  path: string;
  user: string | null;
  status: number;
  upgrade?: string;
  protocol?: string;
}

/** Options of the HTTP layer. */
export interface ServeOptions {
  pki: TestPki;
  store: Store;
  tokens: Map<string, TokenEntry>;
  certUsers: Map<string, KubeUser>;
  execProtocols: () => string[];
  requests: RequestRecord[];
  running: Map<string, Set<RunningExec>>;
  /** One-shot hooks keyed `exec|log namespace/name` (see KubeApiServer.onPodRequest). */
  podHooks: Map<string, () => void>;
}

interface Route {
  resource: string;
  namespace?: string;
  name?: string;
  sub?: string;
}

/**
 * Parse `/api/v1/...`, `/apis/apps/v1/...`, `/apis/batch/v1/...` and `/apis/policy/v1/...` resource paths. A resource
 * is found only under its own group, as a real server answers (`/api/v1/deployments` is a 404).
 */
export function route(path: string): Route | null {
  const m = /^\/(api\/v1|apis\/apps\/v1|apis\/batch\/v1|apis\/policy\/v1)(?:\/namespaces\/([^/]+)\/([^/]+)|\/([^/]+))(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
  if (!m) return null;
  const version = m[1] === 'api/v1' ? 'v1' : m[1]!.slice('apis/'.length);
  const r: Route = m[4] !== undefined
    // /api/v1/{resource}[/{name}[/{sub}]] or /api/v1/namespaces[/{name}]
    ? { resource: m[4], ...(m[5] !== undefined ? { name: m[5] } : {}), ...(m[6] !== undefined ? { sub: m[6] } : {}) }
    : { resource: m[3]!, namespace: m[2]!, ...(m[5] !== undefined ? { name: m[5] } : {}), ...(m[6] !== undefined ? { sub: m[6] } : {}) };
  const served = RESOURCES[r.resource];
  return served && served.apiVersion !== version ? null : r;
}

/** Run (and forget) the hook for a pod subresource request, before the pod is read. */
function firePodHook(o: ServeOptions, sub: string, namespace: string, name: string): void {
  const key = `${sub} ${namespace}/${name}`;
  const fn = o.podHooks.get(key);
  o.podHooks.delete(key);
  fn?.();
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

function rawReply(socket: Duplex, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[code] ?? 'Error';
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

/** Create the HTTPS server (not listening). */
export function createKubeHttpsServer(o: ServeOptions): https.Server {
  const wss = createExecWsServer(o.execProtocols);
  const server = https.createServer({ key: o.pki.serverKey, cert: o.pki.serverCert, ca: o.pki.caCert, requestCert: true, rejectUnauthorized: false });
  const record = (req: IncomingMessage, user: KubeUser | null, code: number, extra: Partial<RequestRecord> = {}) =>
    o.requests.push({ method: req.method ?? '', path: req.url ?? '', user: user?.name ?? null, status: code, ...extra });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://x');
    const user = authenticate(req, o.tokens, o.certUsers);
    if (!user) {
      record(req, null, 401);
      return json(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    const port = (server.address() as { port: number }).port;
    const d = discovery(url.pathname.replace(/\/$/, ''), `127.0.0.1:${port}`);
    if (d) {
      record(req, user, 200);
      return json(res, 200, d);
    }
    const r = route(url.pathname);
    // A cluster-scoped kind (nodes, persistentvolumes) under a namespace is a 404, as a real server answers.
    if (!r || !RESOURCES[r.resource] || req.method !== 'GET' || (CLUSTER_SCOPED.has(r.resource) && r.namespace !== undefined)) {
      record(req, user, 404);
      return json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    }
    const verb = r.name === undefined ? 'list' : 'get';
    const resource = r.sub ? `${r.resource}/${r.sub}` : r.resource;
    const deny = forbidden(user, verb, resource, r.namespace);
    if (deny) {
      record(req, user, 403);
      return json(res, 403, status(403, 'Forbidden', deny, { kind: r.resource, ...(r.name ? { name: r.name } : {}) }));
    }
    if (r.name !== undefined) {
      if (r.resource === 'pods' && r.sub === 'log' && r.namespace) firePodHook(o, 'log', r.namespace, r.name);
      const obj = o.store.get(r.resource, r.namespace, r.name);
      if (!obj) {
        record(req, user, 404);
        return json(res, 404, status(404, 'NotFound', `${r.resource} "${r.name}" not found`, { name: r.name, kind: r.resource }));
      }
      if (r.sub === 'log' && r.resource === 'pods') {
        const out = podLog(o.store, obj, url.searchParams);
        record(req, user, out.code);
        if (out.code !== 200) return json(res, out.code, status(out.code, 'BadRequest', out.text));
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(out.text) });
        return res.end(out.text);
      }
      if (r.sub !== undefined) {
        record(req, user, 404);
        return json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      }
      record(req, user, 200);
      return json(res, 200, obj);
    }
    const sel = url.searchParams.get('labelSelector');
    const all = o.store.list(r.resource, r.namespace).sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`));
    const matched: KObject[] = [];
    for (const it of all) {
      const ok = selectorMatches(sel, (it.metadata.labels ?? {}) as Record<string, string>);
      if (ok === null) {
        record(req, user, 400);
        return json(res, 400, status(400, 'BadRequest', `unable to parse requirement: ${sel}`));
      }
      if (ok) matched.push(it);
    }
    const limit = Number(url.searchParams.get('limit') ?? '0') || null;
    const p = page(matched, limit, url.searchParams.get('continue'));
    record(req, user, 200);
    const rv = String(Date.now());
    if ((req.headers.accept ?? '').includes('as=Table')) return json(res, 200, { ...toTable(r.resource, p.items, rv), metadata: { resourceVersion: rv, ...(p.continue ? { continue: p.continue } : {}) } });
    const g = RESOURCES[r.resource]!;
    return json(res, 200, { kind: `${g.kind}List`, apiVersion: g.apiVersion, metadata: { resourceVersion: rv, ...(p.continue ? { continue: p.continue } : {}) }, items: p.items });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'https://x');
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    const user = authenticate(req, o.tokens, o.certUsers);
    const fail = (code: number, reason: string, msg: string) => {
      record(req, user, code, { upgrade });
      rawReply(socket, code, status(code, reason, msg));
    };
    if (!user) return fail(401, 'Unauthorized', 'Unauthorized');
    const r = route(url.pathname);
    if (!r || r.resource !== 'pods' || r.sub !== 'exec' || !r.namespace || !r.name) return fail(404, 'NotFound', 'the server could not find the requested resource');
    const deny = forbidden(user, 'create', 'pods/exec', r.namespace);
    if (deny) return fail(403, 'Forbidden', deny);
    firePodHook(o, 'exec', r.namespace, r.name);
    const pod = o.store.get('pods', r.namespace, r.name);
    if (!pod) return fail(404, 'NotFound', `pods "${r.name}" not found`);
    const names = ((pod.spec as { containers: { name: string }[] }).containers ?? []).map((c) => c.name);
    const container = url.searchParams.get('container') ?? (names.length === 1 ? names[0]! : null);
    if (container === null) return fail(400, 'BadRequest', `a container name must be specified for pod ${r.name}, choose one of: [${names.join(' ')}]`);
    // Like podHasContainerWithName: init and ephemeral containers are exec targets too.
    if (!allContainerNames(pod).includes(container)) return fail(400, 'BadRequest', `container ${container} is not valid for pod ${r.name}`);
    const argv = url.searchParams.getAll('command');
    if (argv.length === 0) return fail(400, 'BadRequest', 'you must specify at least 1 command');
    const dir = o.store.podDir(r.namespace, r.name)!;
    const streams = { stdout: url.searchParams.get('stdout') === 'true' || url.searchParams.get('output') === '1', stderr: url.searchParams.get('stderr') === 'true' || url.searchParams.get('error') === '1' };
    const start = (): RunningExec => {
      const run = runExec(argv, dir, o.store.container(r.namespace!, r.name!, container)?.env ?? {});
      const key = `${r.namespace}/${r.name}`;
      const set = o.running.get(key) ?? new Set();
      set.add(run);
      o.running.set(key, set);
      void run.done.then(() => set.delete(run));
      return run;
    };
    if (upgrade === 'websocket') {
      wss.handleUpgrade(req, socket, head, (ws) => {
        record(req, user, 101, { upgrade, protocol: ws.protocol });
        serveExecWs(ws, start(), streams);
      });
      return;
    }
    if (upgrade.startsWith('spdy/3.1')) {
      const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const protocol = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'].find((p) => offered.includes(p));
      if (!protocol) return fail(400, 'BadRequest', 'no supported stream protocol offered');
      record(req, user, 101, { upgrade, protocol });
      serveExecSpdy(socket, head, protocol, start);
      return;
    }
    fail(400, 'BadRequest', `unsupported upgrade ${upgrade.slice(0, 40)}`);
  });
  server.on('close', () => wss.close());
  return server;
}

/** Kind names the server serves (for tests). */
export const SERVED = Object.keys(RESOURCES).filter((k) => !CLUSTER_SCOPED.has(k));
