/**
 * kubectl_exec, red team: a container that shares its pod's process namespace (a pod with
 * `shareProcessNamespace: true`, or an ephemeral container started with `--target`) reads the
 * other containers' files through `/proc/PID/root`. Their Secret volumes were no secret places
 * for it: only the exec'd container's own mountPaths were, so `cat
 * /proc/7/root/etc/sidecar-creds/token` printed the sidecar's Secret. Now the secret places of an
 * exec are those of every container it reaches (pod-facts.ts). Through `warden serve` and the
 * test API server; the fixture files under /proc stand in for the kernel's links.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const TOKEN = 'KSHARED-sidecar-token-0123';
let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const POLICY = `
rules:
  - id: sre-cat
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], pod_labels: { app: web } }
    shell: { programs: { cat: {} } }
`;

type PodJson = { spec: { containers: Record<string, unknown>[]; volumes?: unknown[]; shareProcessNamespace?: boolean; ephemeralContainers?: unknown[] } };

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  server.store.put('secrets', { metadata: { name: 'sidecar-creds', namespace: 'shop' }, type: 'Opaque', data: { token: Buffer.from(TOKEN).toString('base64') } });
  const files = {
    '/proc/7/root/etc/sidecar-creds/token': TOKEN,
    '/proc/1/root/etc/sidecar-creds/token': TOKEN,
    '/proc/7/root/etc/hostname': 'web-1\n',
  };
  const shared = server.store.addPod({ namespace: 'shop', name: 'shared-1', labels: { app: 'web' }, containers: [{ name: 'app' }, { name: 'sidecar' }], files }) as unknown as PodJson;
  shared.spec.shareProcessNamespace = true;
  shared.spec.volumes = [{ name: 'creds', secret: { secretName: 'sidecar-creds' } }];
  Object.assign(shared.spec.containers[1]!, { volumeMounts: [{ name: 'creds', mountPath: '/etc/sidecar-creds' }] });
  // An ephemeral debug container targeting the container that mounts the Secret.
  const debugged = server.store.addPod({ namespace: 'shop', name: 'debugged-1', labels: { app: 'web' }, containers: [{ name: 'app' }, { name: 'debug' }], files }) as unknown as PodJson;
  debugged.spec.volumes = [{ name: 'creds', secret: { secretName: 'sidecar-creds' } }];
  Object.assign(debugged.spec.containers[0]!, { volumeMounts: [{ name: 'creds', mountPath: '/etc/sidecar-creds' }] });
  const debug = debugged.spec.containers.pop()!;
  debugged.spec.ephemeralContainers = [{ ...debug, targetContainerName: 'app' }];
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const exec = (pod: string, container: string, command: string[]) => w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod, container, command });

test("another container's Secret volume read through /proc/PID/root is refused (shared process namespace, debug target)", async () => {
  for (const [pod, container, path] of [
    ['shared-1', 'app', '/proc/7/root/etc/sidecar-creds/token'],
    ['debugged-1', 'debug', '/proc/1/root/etc/sidecar-creds/token'],
  ] as const) {
    const r = await exec(pod, container, ['cat', path]);
    assert.equal(r.isError, true, `${pod}/${container} ${path}: ${r.text}`);
    assert.match(r.text, /WARDEN_DENIED/, r.text);
    assert.match(r.text, /itself a secret/, r.text);
    assert.ok(!r.text.includes(TOKEN), r.text);
  }
});

test('other files through the same /proc/PID/root still read', async () => {
  const r = await exec('shared-1', 'app', ['cat', '/proc/7/root/etc/hostname']);
  assert.equal(r.isError, false, r.text);
  assert.match(r.text, /web-1/);
});
