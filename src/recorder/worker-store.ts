/**
 * A SQLite store whose hot-path writes run on a writer thread (store-worker.ts). Reads,
 * approvals and recovery stay on a connection in this thread; both connections append to the
 * same hash chain, serialised by SQLite's write lock (BEGIN IMMEDIATE reads the head inside the
 * transaction). If the writer thread dies, every write fails closed with
 * WARDEN_TRANSCRIPT_UNAVAILABLE.
 */
import { Worker } from 'node:worker_threads';
import { ErrorCode, WardenError, type ErrorCodeValue } from '../errors.js';
import { HeadRefusal, type StoreWarning } from './head-refusal.js';
import { createChainSigner } from './signing.js';
import { openSqliteStore, type SqliteTranscriptStore } from './sqlite-open.js';
import type { CallIntent, CallOutcome, SessionStart } from './types.js';

/** Options of the worker-backed store. */
export interface WorkerStoreOptions {
  synchronous?: 'FULL' | 'NORMAL';
  busyTimeoutMs?: number;
  recoverInterrupted?: boolean;
  /** Ed25519 private key (PEM) that signs the chain head. */
  signingPem?: string;
  /** Told once when the key holder starts refusing to sign (on either thread; head-refusal.ts). */
  onWarning?: StoreWarning;
}

/** Open the store with a writer thread; the result is a SqliteTranscriptStore. */
export async function openWorkerBackedStore(path: string, opts: WorkerStoreOptions = {}): Promise<SqliteTranscriptStore> {
  const signer = opts.signingPem ? createChainSigner(opts.signingPem) : undefined;
  // One refusal state for both connections: the writer thread reports its changes here.
  const refusal = new HeadRefusal(opts.onWarning);
  // The main connection creates/migrates the file and recovers calls a dead process left open.
  const main = openSqliteStore(path, {
    synchronous: opts.synchronous ?? 'FULL',
    ...(opts.busyTimeoutMs !== undefined ? { busyTimeoutMs: opts.busyTimeoutMs } : {}),
    ...(opts.recoverInterrupted ? { recoverInterrupted: true } : {}),
    ...(signer ? { signer } : {}),
    headRefusal: refusal,
    // Told what the store's files and folder look like at open (at-rest.ts); the writer thread is not.
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  });
  if (main.readonly) return main;
  const worker = new Worker(new URL('./store-worker.js', import.meta.url), {
    workerData: { path, synchronous: opts.synchronous ?? 'FULL', busyTimeoutMs: opts.busyTimeoutMs, signingPem: opts.signingPem },
  });
  const pending = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let dead: WardenError | null = null;
  const failAll = (e: WardenError) => {
    dead = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m: { ready?: boolean }) => (m.ready ? resolve() : reject(new Error('writer thread did not start'))));
    worker.once('error', reject);
  });
  worker.on('message', (m: { id: number; refused?: string | null; error?: { code: ErrorCodeValue; message: string; details: Record<string, unknown> } }) => {
    if (m.refused !== undefined) return refusal.report(m.refused); // posted before the reply of the write that found it
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) worker.unref(); // idle: the writer thread never keeps the process alive
    if (m.error) p.reject(new WardenError(m.error.code, m.error.message, m.error.details));
    else p.resolve();
  });
  worker.on('error', (e) => failAll(new WardenError(ErrorCode.TRANSCRIPT, `transcript store cannot write: writer thread failed (${e.message})`)));
  worker.on('exit', () => failAll(new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: writer thread stopped')));
  worker.unref();

  const inflight = new Set<Promise<void>>();
  const call = (op: string, args: unknown[]): Promise<void> => {
    if (dead) return Promise.reject(dead);
    const p = new Promise<void>((resolve, reject) => {
      const id = nextId++;
      if (pending.size === 0) worker.ref(); // a write in flight keeps the process alive until it lands
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, args });
    });
    inflight.add(p);
    const done = () => void inflight.delete(p);
    p.then(done, done);
    return p;
  };
  // Approval requests are written on this thread: the writes queued on the writer thread before
  // one (a call's session open) land first, so the chain keeps the order of events.
  const approvals = new Proxy(main.approvals, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => unknown).bind(target);
      if (prop !== 'create') return fn;
      return async (...a: unknown[]) => {
        await Promise.allSettled([...inflight]);
        return fn(...a);
      };
    },
  });

  const hot = {
    openSession: (s: SessionStart) => call('openSession', [s]),
    closeSession: (id: string, endedAt: string) => call('closeSession', [id, endedAt]),
    recordIntent: (c: CallIntent, o?: { durable?: boolean }) => call('recordIntent', [c, o ?? {}]),
    recordOutcome: (id: string, o: CallOutcome) => call('recordOutcome', [id, o]),
    async close() {
      if (!dead) await call('close', []).catch(() => undefined);
      await worker.terminate().catch(() => undefined);
      await main.close();
    },
  };
  return new Proxy(main, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in hot) return hot[prop as keyof typeof hot];
      if (prop === 'approvals') return approvals;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
