/**
 * The standard test cluster: namespace `shop` (web-1 labelled app=web with containers app and
 * sidecar, db-1 labelled app=db), `kube-system` (coredns-1), a secret, a configmap, a
 * service, a deployment, events and a node. Secrets and env carry recognisable fake values.
 */
import type { Store } from './store.js';

/** Fake secrets planted in the fixtures (tests assert they never reach an agent). */
export const PLANTED = {
  dbPassword: 'S3cr3tPassw0rdXYZ',
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  secretUsername: 'app-user',
  secretPassword: 'hunter2-very-secret',
  configmapToken: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ',
};

/** Fill a store with the standard cluster. */
export function seedCluster(store: Store): void {
  const now = Date.now();
  const web1 = store.addPod({
    namespace: 'shop',
    name: 'web-1',
    labels: { app: 'web', tier: 'frontend' },
    annotations: { 'kubectl.kubernetes.io/default-container': 'app' },
    containers: [
      {
        name: 'app',
        env: { DATABASE_URL: `postgres://shop:${PLANTED.dbPassword}@db.shop.svc:5432/shop`, AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: PLANTED.awsSecret, LOG_LEVEL: 'info' },
        logs: Array.from({ length: 50 }, (_, i) => ({ line: `GET /item/${i} 200`, ageSeconds: 500 - i * 10 })),
      },
      { name: 'sidecar', logs: [{ line: 'sidecar ready', ageSeconds: 400 }] },
    ],
    files: {
      '/app/index.html': '<h1>shop</h1>\n',
      '/app/server.js': 'console.log("shop")\n',
      '/app/big.txt': 'x'.repeat(200_000) + '\n',
      '/var/log/app.log': 'started\nserving on :8080\n',
    },
  });
  store.addPod({ namespace: 'shop', name: 'db-1', labels: { app: 'db' }, containers: [{ name: 'app', logs: [{ line: 'db ready', ageSeconds: 100 }] }], files: { '/app/db.conf': 'port=5432\n' } });
  store.addPod({ namespace: 'kube-system', name: 'coredns-1', labels: { 'k8s-app': 'kube-dns' }, containers: [{ name: 'coredns' }], files: { '/etc/coredns/Corefile': '.:53 {}\n' } });
  store.put('secrets', {
    metadata: {
      name: 'db-creds',
      namespace: 'shop',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ stringData: { password: PLANTED.secretPassword } }) },
    },
    type: 'Opaque',
    data: { username: Buffer.from(PLANTED.secretUsername).toString('base64'), password: Buffer.from(PLANTED.secretPassword).toString('base64') },
  });
  store.put('configmaps', { metadata: { name: 'web-config', namespace: 'shop' }, data: { LOG_LEVEL: 'info', API_TOKEN: PLANTED.configmapToken } });
  store.put('services', { metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }], clusterIP: '10.96.0.10' } });
  store.put('deployments', {
    metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', tier: 'frontend' } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] } } },
    status: { replicas: 1, readyReplicas: 1 },
  });
  store.put('events', { metadata: { name: 'web-1.17a', namespace: 'shop' }, involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'shop', uid: web1.metadata.uid }, reason: 'Started', message: 'Started container app', type: 'Normal', lastTimestamp: new Date(now - 60_000).toISOString() });
  store.put('nodes', { metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
}
