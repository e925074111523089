/**
 * The pieces of DPoP checking that an HTTP round trip cannot reach cheaply: the replay cache's
 * bounds (an id is refused while its window lasts, forgotten after; full of live ids it refuses,
 * fail closed, rather than forget one) and the URL a proof's htu must name (normalised, from
 * dpop.public_url or the audience).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReplayCache } from '../../src/identity/dpop-replay.js';
import { normaliseHtu } from '../../src/identity/dpop-proof.js';
import { expectedHtu } from '../../src/server/http-dpop.js';

describe('DPoP replay cache', () => {
  test('an id is refused while its window lasts and taken again after it', () => {
    const c = createReplayCache(1000);
    assert.equal(c.take('k.a', 2000, 1000), 'fresh');
    assert.equal(c.take('k.a', 2000, 1999), 'replayed');
    assert.equal(c.take('k.a', 4000, 2000), 'fresh');
  });

  test('full of ids still inside their window, it refuses a new one (fail closed) and takes it once one has expired', () => {
    const c = createReplayCache(1000);
    for (let i = 0; i < 999; i++) assert.equal(c.take(`k.${i}`, 10_000, 0), 'fresh');
    assert.equal(c.take('k.late', 20_000, 0), 'fresh');
    assert.equal(c.take('k.new', 20_000, 5000), 'full');
    assert.equal(c.take('k.0', 20_000, 5000), 'replayed', 'a remembered id is still refused as a replay');
    assert.equal(c.size, 1000);
    // At 10 s the first 999 expire; the front sweep frees them.
    assert.equal(c.take('k.new', 20_000, 10_000), 'fresh');
    assert.equal(c.size, 2);
  });

  test('expired ids behind a live one are found by the whole pass when full', () => {
    const c = createReplayCache(1000);
    assert.equal(c.take('k.long', 100_000, 0), 'fresh');
    for (let i = 0; i < 999; i++) c.take(`k.${i}`, 10_000, 0);
    assert.equal(c.take('k.new', 20_000, 10_000), 'fresh');
    assert.equal(c.size, 2);
  });
});

describe('the htu a proof must name', () => {
  test('normalised as RFC 9449 4.3 says: no query or fragment, case of scheme and host, default port, percent-encoding', () => {
    assert.equal(normaliseHtu('HTTPS://Warden.Example.COM:443/mcp?a=1#x'), 'https://warden.example.com/mcp');
    assert.equal(normaliseHtu('https://warden.example.com:8443/a/../mcp'), 'https://warden.example.com:8443/mcp');
    assert.equal(normaliseHtu('https://warden.example.com/%6dcp'), 'https://warden.example.com/mcp');
    assert.equal(normaliseHtu('https://warden.example.com/a%2fb'), 'https://warden.example.com/a%2Fb');
    assert.equal(normaliseHtu('https://user:pw@warden.example.com/mcp'), null);
    assert.equal(normaliseHtu('ftp://warden.example.com/mcp'), null);
    assert.equal(normaliseHtu('not a url'), null);
  });

  test('from dpop.public_url, else the audience (an origin alone stands for its /mcp); an audience that is no URL needs public_url', () => {
    assert.equal(expectedHtu('https://warden.example.com/mcp', undefined, '/mcp'), 'https://warden.example.com/mcp');
    assert.equal(expectedHtu('https://warden.example.com', undefined, '/mcp'), 'https://warden.example.com/mcp');
    assert.equal(expectedHtu('api://warden', 'https://gw.example.com/warden/mcp', '/mcp'), 'https://gw.example.com/warden/mcp');
    assert.throws(() => expectedHtu('api://warden', undefined, '/mcp'), (e: Error & { code?: string }) => e.code === 'WARDEN_CONFIG' && /dpop.public_url/.test(e.message));
  });
});
