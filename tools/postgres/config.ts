/**
 * The `type: postgres` connection entry. Credentials are a reference (env:/file:) to a URL;
 * the agent never sees or supplies it.
 */
import { z } from 'zod';
import { connectionDuration as duration } from '../shared/duration.js';

const ref = z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, 'must be a secret reference: env:NAME or file:/path (inline secrets are refused)');

/** Schema of a postgres connection (name and type are handled by the config loader). */
export const postgresConnectionSchema = z
  .object({
    url: ref,
    statement_timeout: duration.default(5000),
    max_rows: z.number().int().min(1).max(1_000_000).default(1000),
    max_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    pool_size: z.number().int().min(1).max(100).default(5),
    description: z.string().optional(),
  })
  .strict();

/** A validated postgres connection. */
export interface PostgresConnection {
  name: string;
  type: 'postgres';
  url: string;
  statement_timeout: number;
  max_rows: number;
  max_bytes: number;
  pool_size: number;
  description?: string;
}
