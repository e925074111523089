/**
 * The reviewers' HTTP API (for the web UI), as a plain Node request handler. Authentication is
 * the caller's job: the handler receives an already verified reviewer principal and applies the
 * approval rules through the review API (no self-approval, reviewer groups, distinct reviewers).
 *
 *   GET  {base}                 list (?state=pending&limit=50)
 *   GET  {base}/{id}            one request
 *   POST {base}/{id}/approve    body {"comment": "..."} (application/json only: no form CSRF)
 *   POST {base}/{id}/deny
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ErrorCode, WardenError } from '../errors.js';
import type { Principal } from '../tool-api.js';
import type { ApprovalReviewApi } from './review-api.js';

/** Handles a request under the base path; resolves false when the path is not its own. */
export type ApprovalsHttpHandler = (req: IncomingMessage, res: ServerResponse, reviewer: Principal) => Promise<boolean>;

const STATES = ['pending', 'approved', 'denied', 'expired', 'used'] as const;
const listQuery = z.object({ state: z.enum(STATES).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }).strict();
const decisionBody = z.object({ comment: z.string().max(2000).optional() }).strict();
const MAX_BODY = 16 * 1024;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(text);
}

function fail(res: ServerResponse, status: number, code: string, message: string): true {
  send(res, status, { error: { code, message } });
  return true;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new WardenError(ErrorCode.INVALID_INPUT, 'request body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WardenError(ErrorCode.INVALID_INPUT, 'request body is not valid JSON');
  }
}

/** Build the handler for the review API mounted at basePath (default /api/approvals). */
export function createApprovalsHttpHandler(api: ApprovalReviewApi, opts: { basePath?: string } = {}): ApprovalsHttpHandler {
  const base = (opts.basePath ?? '/api/approvals').replace(/\/+$/, '');
  return async (req, res, reviewer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== base && !url.pathname.startsWith(base + '/')) return false;
    const rest = url.pathname.slice(base.length).split('/').filter(Boolean).map(decodeURIComponent);
    try {
      if (req.method === 'GET' && rest.length === 0) {
        const q = listQuery.safeParse(Object.fromEntries(url.searchParams));
        if (!q.success) return fail(res, 400, ErrorCode.INVALID_INPUT, 'query: state must be pending|approved|denied|expired|used, limit 1..1000');
        send(res, 200, { approvals: await api.list(q.data) });
        return true;
      }
      if (req.method === 'GET' && rest.length === 1) {
        const v = await api.get(rest[0]!);
        if (!v) return fail(res, 404, 'WARDEN_NOT_FOUND', 'no such approval request');
        send(res, 200, { approval: v });
        return true;
      }
      if (req.method === 'POST' && rest.length === 2 && (rest[1] === 'approve' || rest[1] === 'deny')) {
        if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
          return fail(res, 415, ErrorCode.INVALID_INPUT, 'decisions must be sent as application/json');
        }
        const b = decisionBody.safeParse(await readJson(req));
        if (!b.success) return fail(res, 400, ErrorCode.INVALID_INPUT, 'body: {"comment"?: string (max 2000)} only');
        const v = rest[1] === 'approve' ? await api.approve(rest[0]!, reviewer, b.data.comment) : await api.deny(rest[0]!, reviewer, b.data.comment);
        send(res, 200, { approval: v });
        return true;
      }
      return fail(res, 405, ErrorCode.INVALID_INPUT, 'unsupported method or path');
    } catch (e) {
      if (e instanceof WardenError) {
        const status = e.code === ErrorCode.DENIED ? 403 : e.code === ErrorCode.INVALID_INPUT ? 400 : 503;
        return fail(res, status, e.code, e.message);
      }
      return fail(res, 500, ErrorCode.INTERNAL, 'internal error');
    }
  };
}
