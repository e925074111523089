/**
 * A token's refusal as a coded error that names no part of the token: oidc.ts's own checks and
 * jose's errors alike. Why apart: the mapping is a table of its own, kept beside the verifier.
 */
import { errors as joseErrors } from 'jose';
import { ErrorCode, WardenError } from '../errors.js';
import type { TokenFailure } from './oidc.js';

/** A coded, token-free refusal of a token (WARDEN_UNAUTHENTICATED with its reason). */
export function fail(reason: TokenFailure, message: string): WardenError {
  return new WardenError(ErrorCode.UNAUTHENTICATED, message, { reason });
}

/** Map jose's errors to coded, token-free failures. */
export function mapJoseError(e: unknown): WardenError {
  if (e instanceof WardenError) return e;
  if (e instanceof joseErrors.JWTExpired) return fail('expired', 'the token has expired');
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    // jose's reason is 'check_failed' for a time in the future, 'invalid' for a claim that is not a number.
    if ((e.claim === 'nbf' || e.claim === 'iat') && e.reason === 'check_failed') return fail('not_yet_valid', 'the token is not valid yet');
    if (e.claim === 'aud') return fail('wrong_audience', 'the token was issued for another audience (resource)');
    if (e.claim === 'iss') return fail('wrong_issuer', 'the token was issued by another issuer');
    return fail('claims', `the token's ${e.claim} claim is missing or invalid`);
  }
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return fail('algorithm', 'the token is signed with an algorithm this server does not accept');
  if (e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JWKSMultipleMatchingKeys) return fail('unknown_key', "no key of the issuer's key set matches the token");
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return fail('signature', 'the token signature does not verify');
  if (e instanceof joseErrors.JWKSTimeout || e instanceof joseErrors.JWKSInvalid) return fail('issuer_unavailable', "the issuer's key set cannot be fetched");
  if (e instanceof joseErrors.JOSENotSupported) return fail('algorithm', 'the token uses an unsupported algorithm or key type');
  if (e instanceof joseErrors.JWSInvalid || e instanceof joseErrors.JWTInvalid) return fail('malformed', 'the token is malformed');
  // Fetch failures of the key set surface as plain errors.
  return fail('issuer_unavailable', "the token could not be verified against the issuer's keys");
}
