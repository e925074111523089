/**
 * The target digest an approval binds for a kubernetes connection (connection-target.ts): the
 * cluster server, its CA, the user's name and auth kind; never a token, password or key, so a
 * rotated credential is the same target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster, User } from '@kubernetes/client-node';
import { kubeTarget } from '../../../tools/kubernetes/connection-target.js';

const cluster: Cluster = { name: 'c', server: 'https://staging.example:6443', caData: 'Q0EtQQ==', skipTLSVerify: false };
const user: User = { name: 'warden', token: 'tok-secret-1' };

test('the target changes with server, CA, user and auth kind, not with a rotated credential', async () => {
  const base = await kubeTarget('k', cluster, user);
  assert.match(base, /^sha256:[0-9a-f]{64}$/);
  assert.equal(await kubeTarget('k', cluster, { ...user, token: 'tok-secret-2' }), base, 'a rotated token is the same target');
  for (const [what, c, u] of [
    ['server', { ...cluster, server: 'https://prod.example:6443' }, user],
    ['CA', { ...cluster, caData: 'Q0EtQg==' }, user],
    ['skip-verify', { ...cluster, skipTLSVerify: true }, user],
    ['user name', cluster, { ...user, name: 'admin' }],
    ['auth kind', cluster, { name: 'warden', certData: 'x', keyData: 'y' }],
    ['impersonation', cluster, { ...user, impersonateUser: 'root' }],
  ] as [string, Cluster, User][]) assert.notEqual(await kubeTarget('k', c, u), base, what);
  assert.equal(
    await kubeTarget('k', cluster, { name: 'b', username: 'ops', password: 'p1' }),
    await kubeTarget('k', cluster, { name: 'b', username: 'ops', password: 'p2' }),
    'a basic-auth password is left out',
  );
});

test("a proxy's password is no part of the target; its host is", async () => {
  const at = (proxyUrl: string) => kubeTarget('k', { ...cluster, proxyUrl }, user);
  assert.equal(await at('http://ops:p1@proxy.internal:3128'), await at('http://ops:p2@proxy.internal:3128'));
  assert.notEqual(await at('http://ops:p1@proxy.internal:3128'), await at('http://ops:p1@other.internal:3128'));
});

test('an unreadable CA file is refused, coded', async () => {
  await assert.rejects(kubeTarget('k', { ...cluster, caData: undefined, caFile: '/nonexistent/ca.crt' }, user), (e: Error & { code?: string }) => e.code === 'WARDEN_CONFIG' && /connection k/.test(e.message));
});
