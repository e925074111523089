/**
 * Group commit for the SQLite store: hot-path writes queue here and commit together in one
 * transaction (one fsync) on the next turn of the event loop, so concurrent calls share the cost
 * of durability. Each write runs in its own savepoint: a logical refusal (unknown session or call)
 * fails that write alone; an I/O error (disk full, read-only) aborts the batch and every waiting
 * call fails closed. `durable: false` writes (a read-only call's intent) commit without their own
 * fsync; the next durable commit (at the latest the call's outcome, before the agent sees
 * anything) makes them durable too. In WAL mode they survive a process crash at once.
 */
import type Database from 'better-sqlite3';
import { ErrorCode, WardenError } from '../errors.js';
import { AlreadyDone, storeError } from './store-errors.js';

interface Pending {
  run: () => void;
  durable: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** The queue of one store connection. */
export class GroupCommit {
  private pending: Pending[] = [];
  private scheduled = false;
  private batch: Pending[] = [];
  private outcomes: unknown[] = [];
  private relaxStmt: Database.Statement | null = null;
  private strictStmt: Database.Statement | null = null;
  /** The batch transaction, built once: each write in its own savepoint (see the header). */
  private readonly runBatch: Database.Transaction<() => void>;

  constructor(
    private readonly db: Database.Database,
    private readonly opts: { synchronous: () => 'FULL' | 'NORMAL'; afterCommit: () => void; beginBatch: () => void; beforeCommit: () => void },
  ) {
    this.runBatch = db.transaction(() => {
      this.opts.beginBatch();
      this.batch.forEach((b, i) => {
        try {
          b.run();
        } catch (e) {
          if (!(e instanceof WardenError || e instanceof AlreadyDone)) throw e;
          this.outcomes[i] = e;
        }
      });
      // One signature per batch, in its transaction (sqlite-head-signing.ts); a refusal there
      // aborts the whole batch, as an I/O error does.
      this.opts.beforeCommit();
    });
  }

  /** Queue one write (a function that appends inside the batch transaction). */
  enqueue(run: () => void, durable: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ run, durable, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commit what is queued now (before the store closes). */
  flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    if (!batch.length) return;
    if (!this.db.open) {
      const closed = new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: store is closed');
      for (const b of batch) b.reject(closed);
      return;
    }
    const outcomes: unknown[] = new Array(batch.length);
    const relax = this.opts.synchronous() === 'FULL' && !batch.some((b) => b.durable);
    this.batch = batch;
    this.outcomes = outcomes;
    try {
      if (relax) (this.relaxStmt ??= this.db.prepare('PRAGMA synchronous = NORMAL')).run();
      this.runBatch.immediate();
    } catch (err) {
      const e = storeError('write', err);
      for (const b of batch) b.reject(e);
      return;
    } finally {
      this.batch = [];
      if (relax) {
        try {
          (this.strictStmt ??= this.db.prepare('PRAGMA synchronous = FULL')).run();
        } catch {
          /* the connection is broken; the next write reports it */
        }
      }
    }
    try {
      this.opts.afterCommit();
    } catch (e) {
      for (const b of batch) b.reject(e);
      return;
    }
    batch.forEach((b, i) => (outcomes[i] === undefined || outcomes[i] instanceof AlreadyDone ? b.resolve() : b.reject(storeError('write', outcomes[i]))));
  }
}
