/**
 * The transcript writer thread: owns one SQLite connection and performs the hot-path writes
 * (sessions, call intents and outcomes) with group commit, so that canonical encoding, hashing,
 * index maintenance and fsync never block the event loop that serves agents.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WardenError } from '../errors.js';
import { HeadRefusal } from './head-refusal.js';
import { createChainSigner } from './signing.js';
import { openSqliteStore } from './sqlite-open.js';

interface Init {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
  busyTimeoutMs?: number;
  signingPem?: string;
}
type Op = 'openSession' | 'closeSession' | 'recordIntent' | 'recordOutcome' | 'close';

const init = workerData as Init;
const store = openSqliteStore(init.path, {
  synchronous: init.synchronous,
  ...(init.busyTimeoutMs !== undefined ? { busyTimeoutMs: init.busyTimeoutMs } : {}),
  ...(init.signingPem ? { signer: createChainSigner(init.signingPem) } : {}),
  // The store's thread keeps the refusal state (and warns): tell it every change.
  headRefusal: new HeadRefusal(undefined, (refused) => parentPort!.postMessage({ refused })),
});

parentPort!.on('message', (m: { id: number; op: Op; args: unknown[] }) => {
  const run = (store[m.op] as (...a: unknown[]) => Promise<void>).apply(store, m.args);
  run.then(
    () => {
      parentPort!.postMessage({ id: m.id });
      if (m.op === 'close') parentPort!.close();
    },
    (e: unknown) => {
      const err = e instanceof WardenError ? { code: e.code, message: e.message, details: e.details } : { code: 'WARDEN_TRANSCRIPT_UNAVAILABLE', message: `transcript store cannot write: ${(e as Error)?.message ?? 'error'}`, details: {} };
      parentPort!.postMessage({ id: m.id, error: err });
    },
  );
});
parentPort!.postMessage({ ready: true });
