/**
 * What bounds a read's temporary files and sort memory on a connection, told once when its read
 * pool opens (one query per pool, never per call). Why: statement_timeout is the only bound
 * Warden sets; within it one read may write temporary files as fast as the disk takes them (a
 * big sort, a hash join, a recursive CTE) and fill the server's disk for every user. PostgreSQL's
 * bound is temp_file_limit, which only a superuser may set (`ALTER ROLE ... SET temp_file_limit`,
 * or `GRANT SET ON PARAMETER` from PostgreSQL 15), so Warden cannot set it on its own sessions;
 * it reads the role's effective value and warns when it is unlimited (-1). work_mem (memory per
 * sort or hash step) is reported with it. Neither an agent's statement nor this check can raise
 * temp_file_limit: it is superuser-only to SET.
 */
import type pg from 'pg';
import type { ExecContext } from '../../src/tool-api.js';

const SQL = "SELECT current_setting('temp_file_limit') AS temp_file_limit, current_setting('work_mem') AS work_mem";

/** Read the session's temp_file_limit and work_mem and log them (warn when temp files are unbounded); never fails a call. */
export async function reportRoleLimits(pool: pg.Pool, connection: string, log: ExecContext['log']): Promise<void> {
  let client: pg.PoolClient | undefined;
  try {
    client = await pool.connect();
    const r = await client.query<{ temp_file_limit: string; work_mem: string }>(SQL);
    const { temp_file_limit, work_mem } = r.rows[0]!;
    if (temp_file_limit === '-1') {
      log('warn', `connection ${connection}: temp_file_limit is unlimited for its role; one read may write temporary files until statement_timeout; as a superuser: ALTER ROLE <role> SET temp_file_limit = '1GB'`, {
        connection,
        temp_file_limit,
        work_mem,
      });
    } else {
      log('info', `connection ${connection}: temp_file_limit ${temp_file_limit}, work_mem ${work_mem}`, { connection, temp_file_limit, work_mem });
    }
  } catch {
    // The call that opened the pool meets and reports any connection failure itself.
  } finally {
    client?.release();
  }
}
