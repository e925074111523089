/**
 * Worker-thread entry of a parallel verify: opens the store file read-only, walks its span in a
 * read transaction, posts the SpanResult on the given port and wakes the waiting thread.
 * Why a worker: hashing 2 M records is CPU-bound; two cores halve the wall time.
 */
import { type MessagePort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { latestCheckpoint } from './sqlite-purge.js';
import { VERIFY_MMAP_BYTES } from './verify-parallel.js';
import { type SpanResult, verifySpan } from './verify-span.js';

/** What the main thread hands a verify worker. */
export interface VerifyWorkerData {
  path: string;
  from: number;
  to: number;
  /** The hash of record from - 1 in the main thread's snapshot. */
  prevHash: string;
  /** The retention cut the main thread saw (its snapshot and ours must agree). */
  cutSeq: number | null;
  /** Check the free-text index's entries of the span too (whole-chain verify). */
  textIndex: boolean;
  port: MessagePort;
  /** Int32Array(1) over a SharedArrayBuffer: set to 1 when the message is posted. */
  done: Int32Array;
}

/** The worker's answer: a span, or why it could not walk (the main thread then walks it itself). */
export type VerifyWorkerReply = { span: SpanResult } | { unavailable: string };

function run(d: VerifyWorkerData): VerifyWorkerReply {
  let db: Database.Database | undefined;
  try {
    db = new Database(d.path, { readonly: true, fileMustExist: true });
    db.pragma(`mmap_size = ${VERIFY_MMAP_BYTES}`); // a read-only scan: map the file instead of copying pages
    const conn = db;
    return conn.transaction((): VerifyWorkerReply => {
      if ((latestCheckpoint(conn)?.cutSeq ?? null) !== d.cutSeq) return { unavailable: 'the store changed (retention ran)' };
      const before = conn.prepare('SELECT hash FROM records WHERE seq = ?').get(d.from - 1) as { hash: string } | undefined;
      if (before?.hash !== d.prevHash) return { unavailable: 'the store changed under the walk' };
      return { span: verifySpan(conn, d.from, d.to, d.prevHash, { deferSignatures: true, mustReach: false, textIndex: d.textIndex }) };
    }).deferred();
  } catch (err) {
    return { unavailable: err instanceof Error ? err.message : String(err) };
  } finally {
    if (db?.open) db.close();
  }
}

const data = workerData as VerifyWorkerData;
data.port.postMessage(run(data));
Atomics.store(data.done, 0, 1);
Atomics.notify(data.done, 0);
