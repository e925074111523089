/**
 * Run one verify span on a worker thread while the caller walks another, synchronously: the
 * store's verify runs inside a read transaction (no await), so the caller blocks on Atomics.wait
 * for the worker's reply and reads it with receiveMessageOnPort.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { VerifyWorkerData, VerifyWorkerReply } from './verify-worker.js';

/** Memory-map size for verify scans; why: a 2 M-record walk is mostly page copies without it. */
export const VERIFY_MMAP_BYTES = 4 * 1024 * 1024 * 1024;

/** Below this many records a worker's start-up costs more than it saves. */
export const PARALLEL_MIN_RECORDS = 200_000;
let minRecords = PARALLEL_MIN_RECORDS;

/** Change the threshold (tests walk small chains on two threads); returns the previous value. */
export function setParallelVerifyThreshold(records: number): number {
  const before = minRecords;
  minRecords = records;
  return before;
}

/** Why: a single-core host gains nothing from a second walker. */
export function parallelVerifyUseful(records: number): boolean {
  return records >= minRecords && availableParallelism() > 1;
}

/** A started worker span; `wait` blocks until its reply or until `budgetMs` has passed. */
export interface PendingSpan {
  wait(budgetMs: number): VerifyWorkerReply;
}

/** Start a worker on span from..to of the file at `path`. */
export function startWorkerSpan(path: string, from: number, to: number, prevHash: string, cutSeq: number | null, textIndex = false): PendingSpan {
  const { port1, port2 } = new MessageChannel();
  const done = new Int32Array(new SharedArrayBuffer(4));
  const data: VerifyWorkerData = { path, from, to, prevHash, cutSeq, textIndex, port: port2, done };
  let worker: Worker;
  try {
    worker = new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: data, transferList: [port2] });
  } catch (err) {
    port1.close();
    const reply: VerifyWorkerReply = { unavailable: err instanceof Error ? err.message : String(err) };
    return { wait: () => reply };
  }
  worker.on('error', () => undefined); // a crash is seen below as "no reply"
  return {
    wait(budgetMs: number): VerifyWorkerReply {
      // Bounded, so a worker that died before replying cannot hang verify (the caller then walks the span).
      Atomics.wait(done, 0, 0, budgetMs);
      const msg = receiveMessageOnPort(port1);
      port1.close();
      void worker.terminate();
      return msg ? (msg.message as VerifyWorkerReply) : { unavailable: 'the verify worker did not answer' };
    },
  };
}
