/**
 * Signed approval webhooks, as the Standard Webhooks specification (standardwebhooks.com) signs
 * them, so receivers can verify with its libraries: headers `webhook-id` (one id per notice, kept
 * across retries so a receiver can drop duplicates), `webhook-timestamp` (Unix seconds of the
 * attempt: a receiver refuses stale ones, which stops replays) and `webhook-signature`
 * (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`). Why: a webhook URL leaks (chat history,
 * proxy logs) and whoever holds it could otherwise post a forged `approved` notice to a bot that
 * acts on it. The key is a `whsec_` secret's base64 part, or any other secret's UTF-8 bytes.
 */
import { createHmac, randomUUID } from 'node:crypto';

/** The HMAC key of a resolved secret; null when it holds no key (empty, or `whsec_` with no bytes): fail closed. */
export function webhookKey(secret: string): Buffer | null {
  const s = secret.trim();
  const key = s.startsWith('whsec_') ? Buffer.from(s.slice('whsec_'.length), 'base64') : Buffer.from(s, 'utf8');
  return key.length ? key : null;
}

/** A new notice id (`msg_` + UUID); why a prefix: the Standard Webhooks examples use one. */
export function webhookMessageId(): string {
  return `msg_${randomUUID()}`;
}

/** The three signature headers of one delivery attempt of `body`. */
export function signedHeaders(key: Buffer, id: string, body: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
