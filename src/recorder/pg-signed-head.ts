/**
 * The signed chain head of the PostgreSQL store: the one `signed_head` row, written by the group
 * commit (pg-writer.ts) in the transaction that moves the chain head, under the chain-head row
 * lock. Here: reading and writing the row, the check when a key holder opens the store for
 * writing, and `warden transcripts adopt-head`. Every key holder signs under that lock, so records
 * beyond a valid signed head were written without the key: a key holder refuses to open the store
 * (unsignedTailError, head-adopt.ts) as the SQLite store does, until the operator names the head.
 */
import type pg from 'pg';
import { adoptRefusal, unsignedStoreError, unsignedTailError } from './head-adopt.js';
import { pgStoreError } from './pg-errors.js';
import type { ChainSigner } from './signing.js';
import type { SignedHead } from './types.js';

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** Store the signed head (only ever forward: replicas serialise on the chain-head lock anyway). */
export async function writePgSignedHead(c: pg.ClientBase, s: SignedHead): Promise<void> {
  await c.query(
    `INSERT INTO signed_head (id, seq, hash, signed_at, key_id, signature) VALUES (1, $1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, signed_at = EXCLUDED.signed_at,
       key_id = EXCLUDED.key_id, signature = EXCLUDED.signature WHERE signed_head.seq <= EXCLUDED.seq`,
    [s.seq, s.hash, s.signedAt, s.keyId, s.signature],
  );
}

/** The stored signed head, or null; why: verify compares the chain with it. */
export async function readPgSignedHead(q: (sql: string) => Promise<pg.QueryResult>): Promise<SignedHead | null> {
  const r = (await q('SELECT seq, hash, signed_at, key_id, signature FROM signed_head WHERE id = 1')).rows[0] as Record<string, unknown> | undefined;
  return r ? { seq: Number(r.seq), hash: String(r.hash), signedAt: String(r.signed_at), keyId: String(r.key_id), signature: String(r.signature) } : null;
}

async function chainHead(q: Q, lock: boolean): Promise<{ seq: number; hash: string } | undefined> {
  const h = (await q(`SELECT seq, hash FROM chain_head WHERE id = 1${lock ? ' FOR UPDATE' : ''}`)).rows[0] as { seq: unknown; hash: unknown } | undefined;
  return h ? { seq: Number(h.seq), hash: String(h.hash) } : undefined;
}

/**
 * At open for writing (not by adopt-head), as requireSqliteSignedHead does: refuse a non-empty
 * chain without a `signed_head` row, and one whose chain goes on beyond a valid signed head that
 * still names its record. A signed head that is not valid or no longer names a record of the
 * chain is left to the write path's check (pg-writer.ts: reported, new records left unsigned).
 */
export async function pgRequireSignedHead(pool: pg.Pool, signer: ChainSigner): Promise<void> {
  if (!signer.signHead) return;
  const q: Q = (sql, p) => pool.query(sql, p);
  // The chain head first: a replica committing meanwhile moves the signed head past it, never behind.
  const h = await chainHead(q, false);
  if (!h || h.seq === 0) return;
  const cur = await readPgSignedHead(q);
  if (cur === null) throw unsignedStoreError(h, 'in the database (table signed_head)');
  if (cur.seq >= h.seq || !signer.check(cur)) return;
  const at = ((await q('SELECT hash FROM records WHERE seq = $1', [cur.seq])).rows[0] as { hash?: unknown } | undefined)?.hash;
  if (at === cur.hash) throw unsignedTailError(cur.seq, h, 'open for writing');
}

/**
 * `warden transcripts adopt-head`: sign the head verify checked, under the chain-head lock, when
 * no signed head exists, or (`over`: the valid signed head the command found) when the chain goes
 * on beyond it and the operator named the current head. Refused when the head moved meanwhile.
 */
export async function pgAdoptHead(pool: pg.Pool, signer: ChainSigner | undefined, verified: { seq: number; hash: string }, over?: SignedHead): Promise<SignedHead> {
  if (!signer?.signHead) throw adoptRefusal('transcripts.signing_key must be the private key');
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const h = await chainHead((sql, p) => c.query(sql, p), true);
    const cur = await readPgSignedHead((sql) => c.query(sql));
    if (cur !== null && (!over || cur.signature !== over.signature || cur.seq !== over.seq || cur.hash !== over.hash || cur.seq >= verified.seq)) {
      throw adoptRefusal('the store already has a signed head');
    }
    if (!h || h.seq !== verified.seq || h.hash !== verified.hash) throw adoptRefusal('the store changed while it was verified (is a Warden still writing it?)');
    const signed = signer.signHead(verified.seq, verified.hash);
    await writePgSignedHead(c, signed);
    await c.query('COMMIT');
    return signed;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw pgStoreError('write', e);
  } finally {
    c.release();
  }
}
