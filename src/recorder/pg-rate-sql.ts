/**
 * The schema of rate-limit counters shared by replicas (PostgreSQL v7, reshaped by v8;
 * pg-rate-counters.ts uses it). Why functions: each check (admit one call under several scopes,
 * or take rows/bytes from their quotas) is ONE statement, so ONE round trip, that locks its keys,
 * reads the windows and writes the charge in the statement's own transaction; concurrent checks
 * of a key serialise on a transaction-level advisory lock per key (taken in key order, so no
 * deadlock), never on rows.
 *
 * - rate_usage: one row per call under a calls-per-minute limit, with its time on the database
 *   clock (ms since the epoch), counted over the sliding minute (at most the limit) and pruned
 *   after it. (v7 also kept a row per rows or bytes charge there; v8 moved them to buckets.)
 * - rate_buckets (v8): rows and bytes charged to a key, summed per RATE_BUCKET_MS bucket, counted
 *   while the bucket's end is less than an hour ago: the hour's sum reads at most 361 rows per key
 *   and kind whatever the rate. Only what a quota counts is written.
 * - rate_inflight: one row per scope of a running call with a concurrency limit, carrying the
 *   liveness lock of its replica (pg-liveness.ts): slots of a dead replica (v8: its lock seen free
 *   for the grace, warden_owner_dead in pg-liveness-sql.ts, the rule recovery uses too) are
 *   deleted when a key is full and by the sweep.
 */

/** Advisory lock class of rate-limit keys ("WRAT"); why: apart from migration and liveness locks. */
export const RATE_LOCK_CLASS = 0x57524154;

/** The v7 migration (as it ran; v8 replaces its functions); `livenessClass` is the class of the replicas' liveness locks. */
export function rateCountersMigration(livenessClass: number): string {
  return `
  CREATE TABLE rate_usage (
    key    TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('calls', 'rows', 'bytes')),
    at     BIGINT NOT NULL,
    amount BIGINT NOT NULL
  );
  CREATE INDEX rate_usage_key ON rate_usage (key, kind, at);
  CREATE INDEX rate_usage_at ON rate_usage (at);
  CREATE TABLE rate_inflight (
    ticket     TEXT NOT NULL,
    key        TEXT NOT NULL,
    owner_lock INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (ticket, key)
  );
  CREATE INDEX rate_inflight_key ON rate_inflight (key);
  CREATE INDEX rate_inflight_owner ON rate_inflight (owner_lock);

  CREATE FUNCTION warden_rate_now() RETURNS BIGINT LANGUAGE sql AS $f$
    SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT $f$;

  CREATE FUNCTION warden_rate_lock(p_keys TEXT[]) RETURNS void LANGUAGE plpgsql AS $f$
    DECLARE k TEXT;
    BEGIN
      FOR k IN SELECT DISTINCT u FROM unnest(p_keys) AS u ORDER BY u LOOP
        PERFORM pg_advisory_xact_lock(${RATE_LOCK_CLASS}, hashtext(k));
      END LOOP;
    END $f$;

  -- Delete the slots of replicas whose liveness lock is free (dead); returns how many.
  CREATE FUNCTION warden_rate_release_dead(p_key TEXT) RETURNS INTEGER LANGUAGE plpgsql AS $f$
    DECLARE o INTEGER; n INTEGER := 0; d INTEGER;
    BEGIN
      FOR o IN SELECT DISTINCT owner_lock FROM rate_inflight WHERE p_key IS NULL OR key = p_key LOOP
        IF pg_try_advisory_lock(${livenessClass}, o) THEN
          PERFORM pg_advisory_unlock(${livenessClass}, o);
          DELETE FROM rate_inflight WHERE owner_lock = o;
          GET DIAGNOSTICS d = ROW_COUNT;
          n := n + d;
        END IF;
      END LOOP;
      RETURN n;
    END $f$;

  -- Admit one call under every scope (key i with its limits, NULL = none), all or nothing:
  -- NULL when admitted (its calls and slots written), else the refusal (index, limit, max, retry).
  CREATE FUNCTION warden_rate_admit(
    p_keys TEXT[], p_cpm BIGINT[], p_conc BIGINT[], p_rows BIGINT[], p_bytes BIGINT[],
    p_ticket TEXT, p_owner_lock INTEGER, p_now BIGINT
  ) RETURNS JSONB LANGUAGE plpgsql AS $f$
    DECLARE t BIGINT := COALESCE(p_now, warden_rate_now()); k TEXT; n BIGINT; oldest BIGINT;
    BEGIN
      PERFORM warden_rate_lock(p_keys);
      FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
        k := p_keys[i];
        DELETE FROM rate_usage WHERE key = k AND at <= t - 3600000;
        IF p_conc[i] IS NOT NULL THEN
          SELECT count(*) INTO n FROM rate_inflight WHERE key = k;
          IF n >= p_conc[i] AND warden_rate_release_dead(k) > 0 THEN
            SELECT count(*) INTO n FROM rate_inflight WHERE key = k;
          END IF;
          IF n >= p_conc[i] THEN
            RETURN jsonb_build_object('i', i - 1, 'limit', 'concurrent', 'max', p_conc[i]);
          END IF;
        END IF;
        IF p_cpm[i] IS NOT NULL THEN
          SELECT count(*), min(at) INTO n, oldest FROM rate_usage WHERE key = k AND kind = 'calls' AND at > t - 60000;
          IF n >= p_cpm[i] THEN
            RETURN jsonb_build_object('i', i - 1, 'limit', 'calls_per_minute', 'max', p_cpm[i], 'retry_ms', oldest + 60000 - t);
          END IF;
        END IF;
        IF p_rows[i] IS NOT NULL THEN
          SELECT coalesce(sum(amount), 0) INTO n FROM rate_usage WHERE key = k AND kind = 'rows' AND at > t - 3600000;
          IF n >= p_rows[i] THEN RETURN jsonb_build_object('i', i - 1, 'limit', 'rows_per_hour', 'max', p_rows[i]); END IF;
        END IF;
        IF p_bytes[i] IS NOT NULL THEN
          SELECT coalesce(sum(amount), 0) INTO n FROM rate_usage WHERE key = k AND kind = 'bytes' AND at > t - 3600000;
          IF n >= p_bytes[i] THEN RETURN jsonb_build_object('i', i - 1, 'limit', 'bytes_per_hour', 'max', p_bytes[i]); END IF;
        END IF;
      END LOOP;
      FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
        IF p_cpm[i] IS NOT NULL THEN INSERT INTO rate_usage (key, kind, at, amount) VALUES (p_keys[i], 'calls', t, 1); END IF;
        IF p_conc[i] IS NOT NULL THEN
          INSERT INTO rate_inflight (ticket, key, owner_lock, started_at) VALUES (p_ticket, p_keys[i], p_owner_lock, t);
        END IF;
      END LOOP;
      RETURN NULL;
    END $f$;

  -- Take up to p_amount of one kind from every key's hourly quota (p_max[i] NULL: no quota, only
  -- charged), charged at once; returns {taken, at} (at: to give back an unused part at the same time).
  CREATE FUNCTION warden_rate_take(p_keys TEXT[], p_max BIGINT[], p_kind TEXT, p_amount BIGINT, p_now BIGINT)
  RETURNS BIGINT[] LANGUAGE plpgsql AS $f$
    DECLARE t BIGINT := COALESCE(p_now, warden_rate_now()); fit BIGINT := greatest(p_amount, 0); used BIGINT;
    BEGIN
      PERFORM warden_rate_lock(p_keys);
      FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
        IF p_max[i] IS NOT NULL THEN
          SELECT coalesce(sum(amount), 0) INTO used FROM rate_usage WHERE key = p_keys[i] AND kind = p_kind AND at > t - 3600000;
          fit := least(fit, greatest(p_max[i] - used, 0));
        END IF;
      END LOOP;
      IF fit > 0 THEN
        INSERT INTO rate_usage (key, kind, at, amount) SELECT u, p_kind, t, fit FROM unnest(p_keys) AS u;
      END IF;
      RETURN ARRAY[fit, t];
    END $f$;
  `;
}

/** Width of a rows/bytes bucket (v8): 10 s, so an hour's sum reads at most 361 rows per key and kind. */
export const RATE_BUCKET_MS = 10_000;

/**
 * The v8 migration: rows and bytes in 10 s buckets (rate_buckets; calls stay one row each in
 * rate_usage, at most the limit within a minute), the v7 charges summed into the bucket of their
 * time (so the hour's usage keeps counting), and slots freed only once their replica is dead by
 * warden_owner_dead (its lock seen free for a grace; pg-liveness-sql.ts, created first in the
 * same migration).
 *
 * - A bucket counts while its end is less than an hour ago: a charge counts for at least an hour
 *   and at most an hour and 10 s (never less than the exact sliding hour; fail closed).
 * - A replica whose liveness lock is free has its slots freed only once the lock has been seen
 *   free for p_grace ms (on the database clock), the same rule and marks recovery uses.
 */
export function rateCountersV8Migration(): string {
  const B = RATE_BUCKET_MS;
  return `
  CREATE TABLE rate_buckets (
    key    TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('rows', 'bytes')),
    bucket BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (key, kind, bucket)
  );
  CREATE INDEX rate_buckets_bucket ON rate_buckets (bucket);
  INSERT INTO rate_buckets (key, kind, bucket, amount)
    SELECT key, kind, at / ${B}, sum(amount) FROM rate_usage WHERE kind IN ('rows', 'bytes') GROUP BY 1, 2, 3;
  DELETE FROM rate_usage WHERE kind <> 'calls';
  ALTER TABLE rate_usage DROP CONSTRAINT rate_usage_kind_check, ADD CONSTRAINT rate_usage_kind_check CHECK (kind = 'calls');
  DROP FUNCTION warden_rate_admit(TEXT[], BIGINT[], BIGINT[], BIGINT[], BIGINT[], TEXT, INTEGER, BIGINT);
  DROP FUNCTION warden_rate_release_dead(TEXT);

  -- Delete the slots of dead replicas (warden_owner_dead: lock free for p_grace ms); returns how many.
  CREATE FUNCTION warden_rate_release_dead(p_key TEXT, p_grace BIGINT) RETURNS INTEGER LANGUAGE plpgsql AS $f$
    DECLARE o INTEGER; n INTEGER := 0; d INTEGER;
    BEGIN
      FOR o IN SELECT DISTINCT owner_lock FROM rate_inflight WHERE p_key IS NULL OR key = p_key ORDER BY owner_lock LOOP
        IF warden_owner_dead(o, p_grace) THEN
          DELETE FROM rate_inflight WHERE owner_lock = o;
          GET DIAGNOSTICS d = ROW_COUNT;
          n := n + d;
        END IF;
      END LOOP;
      RETURN n;
    END $f$;

  -- Admit one call under every scope (key i with its limits, NULL = none), all or nothing:
  -- NULL when admitted (its calls and slots written), else the refusal (index, limit, max, retry).
  CREATE FUNCTION warden_rate_admit(
    p_keys TEXT[], p_cpm BIGINT[], p_conc BIGINT[], p_rows BIGINT[], p_bytes BIGINT[],
    p_ticket TEXT, p_owner_lock INTEGER, p_now BIGINT, p_grace BIGINT
  ) RETURNS JSONB LANGUAGE plpgsql AS $f$
    DECLARE t BIGINT := COALESCE(p_now, warden_rate_now()); w BIGINT; k TEXT; n BIGINT; oldest BIGINT;
    BEGIN
      w := (t - 3600000) / ${B};
      PERFORM warden_rate_lock(p_keys);
      FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
        k := p_keys[i];
        DELETE FROM rate_usage WHERE key = k AND at <= t - 60000;
        DELETE FROM rate_buckets WHERE key = k AND bucket < w;
        IF p_conc[i] IS NOT NULL THEN
          SELECT count(*) INTO n FROM rate_inflight WHERE key = k;
          IF n >= p_conc[i] AND warden_rate_release_dead(k, p_grace) > 0 THEN
            SELECT count(*) INTO n FROM rate_inflight WHERE key = k;
          END IF;
          IF n >= p_conc[i] THEN
            RETURN jsonb_build_object('i', i - 1, 'limit', 'concurrent', 'max', p_conc[i]);
          END IF;
        END IF;
        IF p_cpm[i] IS NOT NULL THEN
          SELECT count(*), min(at) INTO n, oldest FROM rate_usage WHERE key = k AND kind = 'calls' AND at > t - 60000;
          IF n >= p_cpm[i] THEN
            RETURN jsonb_build_object('i', i - 1, 'limit', 'calls_per_minute', 'max', p_cpm[i], 'retry_ms', oldest + 60000 - t);
          END IF;
        END IF;
        IF p_rows[i] IS NOT NULL THEN
          SELECT coalesce(sum(amount), 0) INTO n FROM rate_buckets WHERE key = k AND kind = 'rows' AND bucket >= w;
          IF n >= p_rows[i] THEN RETURN jsonb_build_object('i', i - 1, 'limit', 'rows_per_hour', 'max', p_rows[i]); END IF;
        END IF;
        IF p_bytes[i] IS NOT NULL THEN
          SELECT coalesce(sum(amount), 0) INTO n FROM rate_buckets WHERE key = k AND kind = 'bytes' AND bucket >= w;
          IF n >= p_bytes[i] THEN RETURN jsonb_build_object('i', i - 1, 'limit', 'bytes_per_hour', 'max', p_bytes[i]); END IF;
        END IF;
      END LOOP;
      FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
        IF p_cpm[i] IS NOT NULL THEN INSERT INTO rate_usage (key, kind, at, amount) VALUES (p_keys[i], 'calls', t, 1); END IF;
        IF p_conc[i] IS NOT NULL THEN
          INSERT INTO rate_inflight (ticket, key, owner_lock, started_at) VALUES (p_ticket, p_keys[i], p_owner_lock, t);
        END IF;
      END LOOP;
      RETURN NULL;
    END $f$;

  -- Take up to p_amount of one kind from every key's hourly quota (p_max[i] NULL: no quota, only
  -- charged), charged at once into the bucket of now; returns {taken, at} (at: to give back an
  -- unused part into the same bucket).
  CREATE OR REPLACE FUNCTION warden_rate_take(p_keys TEXT[], p_max BIGINT[], p_kind TEXT, p_amount BIGINT, p_now BIGINT)
  RETURNS BIGINT[] LANGUAGE plpgsql AS $f$
    DECLARE t BIGINT := COALESCE(p_now, warden_rate_now()); w BIGINT; fit BIGINT := greatest(p_amount, 0); used BIGINT;
    BEGIN
      w := (t - 3600000) / ${B};
      PERFORM warden_rate_lock(p_keys);
      FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
        IF p_max[i] IS NOT NULL THEN
          SELECT coalesce(sum(amount), 0) INTO used FROM rate_buckets WHERE key = p_keys[i] AND kind = p_kind AND bucket >= w;
          fit := least(fit, greatest(p_max[i] - used, 0));
        END IF;
      END LOOP;
      IF fit > 0 THEN
        INSERT INTO rate_buckets (key, kind, bucket, amount) SELECT DISTINCT u, p_kind, t / ${B}, fit FROM unnest(p_keys) AS u
          ON CONFLICT (key, kind, bucket) DO UPDATE SET amount = rate_buckets.amount + excluded.amount;
      END IF;
      RETURN ARRAY[fit, t];
    END $f$;
  `;
}
