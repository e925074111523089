/** Durability choices shared by the SQLite and PostgreSQL stores. */

/**
 * Whether a session's open and close records wait for their own fsync. They do not: they survive a
 * process crash at once (WAL), and the next durable commit, at the latest the outcome of the
 * session's first call, makes them power-loss durable with it. In the per-request HTTP mode every
 * request is a session, and two fsyncs per call for them cost ~0.5-1 ms. A close lost to a power
 * cut is redone by recovery at the next start (the session is closed as its owner is gone).
 */
export const SESSION_RECORDS_DURABLE = false;
