/**
 * The API server's state: namespaced objects per kind, built from a small fixture spec. Each
 * pod gets a fixture directory whose files stand in for the container's filesystem (see
 * exec-runner.ts for how absolute paths map into it).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A Kubernetes object as JSON. */
export type KObject = { apiVersion: string; kind: string; metadata: Record<string, unknown> & { name: string; namespace?: string }; [k: string]: unknown };

/** One container of a fixture pod. */
export interface ContainerFixture {
  name: string;
  env?: Record<string, string>;
  /** Log lines (oldest first); each gets a timestamp `ageSeconds` in the past. */
  logs?: { line: string; ageSeconds: number }[];
}

/** A pod to create. */
export interface PodFixture {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers: ContainerFixture[];
  /** Files of the pod's filesystem: absolute path -> content. */
  files?: Record<string, string>;
}

const GROUP: Record<string, { apiVersion: string; kind: string }> = {
  pods: { apiVersion: 'v1', kind: 'Pod' },
  namespaces: { apiVersion: 'v1', kind: 'Namespace' },
  services: { apiVersion: 'v1', kind: 'Service' },
  configmaps: { apiVersion: 'v1', kind: 'ConfigMap' },
  secrets: { apiVersion: 'v1', kind: 'Secret' },
  events: { apiVersion: 'v1', kind: 'Event' },
  nodes: { apiVersion: 'v1', kind: 'Node' },
  persistentvolumes: { apiVersion: 'v1', kind: 'PersistentVolume' },
  replicationcontrollers: { apiVersion: 'v1', kind: 'ReplicationController' },
  deployments: { apiVersion: 'apps/v1', kind: 'Deployment' },
  replicasets: { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  statefulsets: { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  daemonsets: { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  jobs: { apiVersion: 'batch/v1', kind: 'Job' },
  cronjobs: { apiVersion: 'batch/v1', kind: 'CronJob' },
  poddisruptionbudgets: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
};

/** Kinds served, with their apiVersion and Kind. */
export const RESOURCES = GROUP;
/** Kinds without a namespace. */
export const CLUSTER_SCOPED = new Set(['namespaces', 'nodes', 'persistentvolumes']);

let rv = 1000;

/** The object store. */
export class Store {
  readonly objects = new Map<string, Map<string, KObject>>();
  readonly podDirs = new Map<string, string>();
  readonly podContainers = new Map<string, ContainerFixture[]>();

  constructor(readonly root: string) {
    for (const k of Object.keys(GROUP)) this.objects.set(k, new Map());
  }

  private key(ns: string | undefined, name: string): string {
    return `${ns ?? ''}/${name}`;
  }

  /** Add any object (metadata filled in, with managedFields as a real server keeps them). */
  put(resource: string, obj: Omit<KObject, 'apiVersion' | 'kind'> & Partial<Pick<KObject, 'apiVersion' | 'kind'>>): KObject {
    const g = GROUP[resource]!;
    const full: KObject = {
      apiVersion: g.apiVersion,
      kind: g.kind,
      ...obj,
      metadata: {
        uid: randomUUID(),
        resourceVersion: String(++rv),
        creationTimestamp: new Date(Date.now() - 3_600_000).toISOString(),
        managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: g.apiVersion, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } }],
        ...(obj.metadata as Record<string, unknown>),
      },
    } as unknown as KObject;
    this.objects.get(resource)!.set(this.key(CLUSTER_SCOPED.has(resource) ? undefined : full.metadata.namespace, full.metadata.name), full);
    if (resource !== 'namespaces' && full.metadata.namespace && !this.get('namespaces', undefined, full.metadata.namespace)) {
      this.put('namespaces', { metadata: { name: full.metadata.namespace }, status: { phase: 'Active' } });
    }
    return full;
  }

  get(resource: string, ns: string | undefined, name: string): KObject | undefined {
    return this.objects.get(resource)?.get(this.key(CLUSTER_SCOPED.has(resource) ? undefined : ns, name));
  }

  list(resource: string, ns: string | undefined): KObject[] {
    const all = [...(this.objects.get(resource)?.values() ?? [])];
    return ns === undefined || CLUSTER_SCOPED.has(resource) ? all : all.filter((o) => o.metadata.namespace === ns);
  }

  delete(resource: string, ns: string | undefined, name: string): boolean {
    return this.objects.get(resource)?.delete(this.key(CLUSTER_SCOPED.has(resource) ? undefined : ns, name)) ?? false;
  }

  /** Create a pod with its fixture directory and files. */
  addPod(p: PodFixture): KObject {
    const dir = join(this.root, 'pods', p.namespace, p.name);
    mkdirSync(dir, { recursive: true });
    for (const [path, content] of Object.entries(p.files ?? {})) {
      const full = join(dir, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
    this.podDirs.set(this.key(p.namespace, p.name), dir);
    this.podContainers.set(this.key(p.namespace, p.name), p.containers);
    const started = new Date(Date.now() - 600_000).toISOString();
    return this.put('pods', {
      metadata: { name: p.name, namespace: p.namespace, labels: p.labels ?? {}, ...(p.annotations ? { annotations: p.annotations } : {}) },
      spec: {
        containers: p.containers.map((c) => ({
          name: c.name,
          image: `registry.example/${c.name}:1.0`,
          ...(c.env ? { env: Object.entries(c.env).map(([name, value]) => ({ name, value })) } : {}),
        })),
        nodeName: 'node-1',
      },
      status: {
        phase: 'Running',
        podIP: '10.0.0.10',
        startTime: started,
        containerStatuses: p.containers.map((c) => ({ name: c.name, ready: true, restartCount: 0, state: { running: { startedAt: started } }, image: `registry.example/${c.name}:1.0` })),
      },
    });
  }

  podDir(ns: string, name: string): string | undefined {
    return this.podDirs.get(this.key(ns, name));
  }

  container(ns: string, pod: string, container: string): ContainerFixture | undefined {
    return this.podContainers.get(this.key(ns, pod))?.find((c) => c.name === container);
  }
}
