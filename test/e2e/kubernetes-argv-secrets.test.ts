/**
 * Red-team findings on secrets in container argv and process records, through `warden serve`
 * and the test API server (transcript included):
 * - kubectl_exec `cat /proc/1/environ` (NUL-separated `KEY=VALUE` pairs) and `/proc/1/cmdline`
 *   (NUL-separated argv): control characters were dropped before masking, so `PATH=/bin` and
 *   `DB_PASSWORD=...` ran together as one assignment and `--requirepass` into its value;
 *   both passed. Now each NUL-separated word is read alone and shown on its own line.
 * - a shell script continued over lines (`--password \` newline value; `mysql -uroot \` newline
 *   `-pPW`), in a pod spec or a script file: the value on the next line passed.
 * - kubectl_get: a secret flag ending a container's `command` whose value opens its `args`.
 * The cases masked already (`--password=x`, `--db-password x`, `--requirepass x`, mysql `-pPW`,
 * `PGPASSWORD=x` in `sh -c`, a literal env value under a secret name) are kept here as
 * regressions, and harmless values beside them (`-p 8080`, `--port 5432`) are shown.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { BASELINE_POLICY, setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const HIDDEN = {
  environ: 'environ-pw-AV1q', cmdline: 'cmdline-pw-AV2w', script: 'script-pw-AV3e', scriptMysql: 'script-my-AV4r',
  split: 'split-pw-AV5t', eq: 'eq-pw-AV6y', db: 'db-pw-AV7u', redis: 'redis-pw-AV8i', mysql: 'mysql-pw-AV9o',
  pg: 'pg-pw-AV0p', env: 'env-literal-AVaa', specScript: 'spec-script-AVbb',
};

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

before(async () => {
  // environment: true lets cat read /proc/PID/environ at all (shell condition), a paths: entry naming /proc/1/cmdline that
  // (proc-places.ts); the masking read here is the wall behind them.
  ({ server, dir } = await setupWardenKube(BASELINE_POLICY.replaceAll('cat: { paths: [/app, /var/log] }', 'cat: { paths: [/app, /var/log, /proc, /proc/1/cmdline], environment: true }')));
  server.store.addPod({
    namespace: 'shop',
    name: 'web-argv',
    labels: { app: 'web' },
    containers: [{ name: 'app' }],
    files: {
      '/proc/1/environ': `PATH=/usr/bin\0DB_PASSWORD=${HIDDEN.environ}\0LOG_LEVEL=info\0`,
      '/proc/1/cmdline': `redis-server\0--requirepass\0${HIDDEN.cmdline}\0--port\x006379\0`,
      '/app/start.sh': `#!/bin/sh\nexec app \\\n  --password \\\n  ${HIDDEN.script} \\\n  --port 8080\nmysql -uroot \\\n  -p${HIDDEN.scriptMysql} shop\n`,
    },
  });
  const pod = server.store.get('pods', 'shop', 'web-argv') as unknown as { spec: { containers: Record<string, unknown>[] } };
  Object.assign(pod.spec.containers[0]!, {
    command: ['app', '--password'],
    args: [HIDDEN.split, `--token=${HIDDEN.eq}`, '--db-password', HIDDEN.db, '-p', '8080', '--port', '5432'],
    env: [{ name: 'DB_PASSWORD', value: HIDDEN.env }, { name: 'LOG_LEVEL', value: 'info' }],
  });
  pod.spec.containers.push(
    { name: 'redis', image: 'redis:7', command: ['redis-server', '--requirepass', HIDDEN.redis] },
    { name: 'db', image: 'mysql:8', command: ['sh', '-c'], args: [`PGPASSWORD=${HIDDEN.pg} psql -h db; mysql -uroot -p${HIDDEN.mysql} shop`] },
    { name: 'job', image: 'app:1', command: ['sh', '-c', `app \\\n  --api-key \\\n  ${HIDDEN.specScript}`] },
  );
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const cat = (path: string) => w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod: 'web-argv', container: 'app', command: ['cat', path] });

test('kubectl_exec: /proc/1/environ and /proc/1/cmdline are read word by word, one per line', async () => {
  const env = await cat('/proc/1/environ');
  assert.equal(env.isError, false, env.text);
  assert.ok(!env.text.includes(HIDDEN.environ), 'environ leaks');
  assert.match(env.text, /PATH=\/usr\/bin\nDB_PASSWORD=\*\*\*\nLOG_LEVEL=info\n/);
  assert.match(env.text, /\nnote: 1 value beside secret-looking names/);
  const cmd = await cat('/proc/1/cmdline');
  assert.equal(cmd.isError, false, cmd.text);
  assert.ok(!cmd.text.includes(HIDDEN.cmdline), 'cmdline leaks');
  assert.match(cmd.text, /redis-server\n--requirepass\n\*\*\*\n--port\n6379\n/);
});

test('kubectl_exec: a script file continued over lines', async () => {
  const r = await cat('/app/start.sh');
  assert.equal(r.isError, false, r.text);
  for (const v of [HIDDEN.script, HIDDEN.scriptMysql]) assert.ok(!r.text.includes(v), `script leaks ${v}`);
  assert.match(r.text, /--port 8080/);
  assert.match(r.text, /\nnote: 2 values beside secret-looking names/);
});

test('kubectl_get: argv values of every secret form masked, harmless values shown', async () => {
  const r = await w.call('kubectl_get', { connection: 'prod', kind: 'pods', namespace: 'shop', name: 'web-argv' });
  assert.equal(r.isError, false, r.text);
  for (const [k, v] of Object.entries(HIDDEN)) if (!['environ', 'cmdline', 'script', 'scriptMysql'].includes(k)) assert.ok(!r.text.includes(v), `pod spec leaks ${k}`);
  for (const shown of ['"-p"', '"8080"', '"--port"', '"5432"', '"info"', '"--requirepass"']) assert.ok(r.text.includes(shown), `hides ${shown}`);
});

test('nothing of it reaches the transcript', () => {
  const t = dumpTranscript(dir.dbPath);
  for (const v of Object.values(HIDDEN)) assert.ok(!t.includes(v), `transcript holds ${v}`);
});
