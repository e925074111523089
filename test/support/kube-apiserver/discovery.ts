/**
 * Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/apps/v1`, `/apis/batch/v1`, `/apis/policy/v1`, `/version`) as a real API
 * server serves them, so that kubectl's RESTMapper resolves `pods`, `po`, `deploy`, ...
 */
type Res = { name: string; kind: string; namespaced: boolean; short?: string[]; verbs?: string[] };

const READ = ['get', 'list', 'watch'];

function list(groupVersion: string, rs: Res[]): Record<string, unknown> {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: rs.map((r) => ({
      name: r.name,
      singularName: r.name.includes('/') ? '' : r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs ?? READ,
      ...(r.short ? { shortNames: r.short } : {}),
    })),
  };
}

/** The discovery answer for a path, or null. */
export function discovery(path: string, hostPort: string): Record<string, unknown> | null {
  switch (path) {
    case '/version':
      return { major: '1', minor: '32', gitVersion: 'v1.32.0-warden-test', gitCommit: '0', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23', compiler: 'gc', platform: 'linux/amd64' };
    case '/api':
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: hostPort }] };
    case '/apis':
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: ['apps', 'batch', 'policy'].map((name) => ({ name, versions: [{ groupVersion: `${name}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' } })),
      };
    case '/api/v1':
      return list('v1', [
        { name: 'pods', kind: 'Pod', namespaced: true, short: ['po'] },
        { name: 'pods/log', kind: 'Pod', namespaced: true, verbs: ['get'] },
        { name: 'pods/exec', kind: 'PodExecOptions', namespaced: true, verbs: ['create', 'get'] },
        { name: 'namespaces', kind: 'Namespace', namespaced: false, short: ['ns'] },
        { name: 'services', kind: 'Service', namespaced: true, short: ['svc'] },
        { name: 'configmaps', kind: 'ConfigMap', namespaced: true, short: ['cm'] },
        { name: 'secrets', kind: 'Secret', namespaced: true },
        { name: 'events', kind: 'Event', namespaced: true, short: ['ev'] },
        { name: 'nodes', kind: 'Node', namespaced: false, short: ['no'] },
        { name: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false, short: ['pv'] },
        { name: 'replicationcontrollers', kind: 'ReplicationController', namespaced: true, short: ['rc'] },
      ]);
    case '/apis/apps/v1':
      return list('apps/v1', [
        { name: 'deployments', kind: 'Deployment', namespaced: true, short: ['deploy'] },
        { name: 'replicasets', kind: 'ReplicaSet', namespaced: true, short: ['rs'] },
        { name: 'statefulsets', kind: 'StatefulSet', namespaced: true, short: ['sts'] },
        { name: 'daemonsets', kind: 'DaemonSet', namespaced: true, short: ['ds'] },
      ]);
    case '/apis/batch/v1':
      return list('batch/v1', [
        { name: 'jobs', kind: 'Job', namespaced: true },
        { name: 'cronjobs', kind: 'CronJob', namespaced: true, short: ['cj'] },
      ]);
    case '/apis/policy/v1':
      return list('policy/v1', [{ name: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true, short: ['pdb'] }]);
    default:
      return null;
  }
}
