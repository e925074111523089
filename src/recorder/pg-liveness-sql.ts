/**
 * When another replica counts as dead (PostgreSQL v8; pg-liveness.ts holds the locks). Why its
 * own module: recovery of interrupted calls (PgStore.markInterrupted) and the rate-limit counters
 * (warden_rate_release_dead, pg-rate-sql.ts) must agree on it, so both ask ONE function on ONE
 * table: `warden_owner_dead(lock, grace)`.
 *
 * - A replica whose liveness lock can be taken is not dead at once: a live replica whose liveness
 *   connection drops reconnects and takes its lock again within about a second, its calls running
 *   meanwhile. It is dead once its lock has been seen free for the grace (LIVENESS_GRACE_MS by
 *   default), measured on the database clock, so replicas with skewed clocks agree.
 * - liveness_marks: when each lock was first seen free. Seen held again, the mark goes; the
 *   replica itself deletes it when it takes its lock again (PgLiveness.hold). A mark left by a
 *   replica that never came back goes after an hour past the grace (pruned by the recovery sweep);
 *   anything of it still left is then seen free again, and recovered after another grace.
 */

/**
 * How long a replica's liveness lock must stay free before the replica counts as dead: its calls
 * without an outcome marked interrupted, its sessions closed, its concurrency slots freed (the
 * default of PgStoreOptions.livenessGraceMs).
 */
export const LIVENESS_GRACE_MS = 5_000;

/** How long past the grace a mark of a lock still free is kept before it is pruned. */
export const LIVENESS_MARK_KEEP_MS = 3_600_000;

/** The liveness part of the v8 migration; `livenessClass` is the class of the replicas' liveness locks. */
export function livenessMarksMigration(livenessClass: number): string {
  return `
  CREATE TABLE liveness_marks (
    owner_lock INTEGER PRIMARY KEY,
    free_since BIGINT NOT NULL
  );

  -- Whether the replica holding liveness lock p_lock is dead: its lock has been seen free for
  -- p_grace ms (ms on the database clock). Seen free, the first sighting is noted; seen held, the
  -- note goes.
  CREATE FUNCTION warden_owner_dead(p_lock INTEGER, p_grace BIGINT) RETURNS BOOLEAN LANGUAGE plpgsql AS $f$
    DECLARE t BIGINT := (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT; since BIGINT;
    BEGIN
      IF NOT pg_try_advisory_lock(${livenessClass}, p_lock) THEN
        DELETE FROM liveness_marks WHERE owner_lock = p_lock;
        RETURN false;
      END IF;
      PERFORM pg_advisory_unlock(${livenessClass}, p_lock);
      INSERT INTO liveness_marks (owner_lock, free_since) VALUES (p_lock, t) ON CONFLICT (owner_lock) DO NOTHING;
      SELECT free_since INTO since FROM liveness_marks WHERE owner_lock = p_lock;
      RETURN since IS NOT NULL AND t - since >= p_grace;
    END $f$;
  `;
}
