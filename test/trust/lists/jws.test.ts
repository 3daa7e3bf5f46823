import { CompactSign } from 'jose';
import { describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../../src/core/errors.js';
import {
  publisherKeyId,
  signTokenList,
  TOKEN_LIST_JWS_TYPE,
  verifyTokenList,
} from '../../../src/trust/lists/jws.js';
import { NOW, nativeHierarchy } from '../../verify/fixtures.js';
import { DAY, entry, list, publisher, sign } from './fixtures.js';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
}

const h = nativeHierarchy();

describe('token list JWS', () => {
  const pub = publisher();

  it('signs and verifies a list under a pinned P-256 key, kid = SPKI SHA-256', async () => {
    const jws = await sign(pub, { entries: [entry('dotnet', h.model.cert.spkiSha256)] });
    const v = await verifyTokenList(jws, { publisherKeys: [pub.publicKey], now: NOW, id: 'sector' });
    expect(v.kid).toBe(publisherKeyId(pub.publicKey));
    expect(v.id).toBe('sector');
    expect(v.sequence).toBe(1);
    expect(v.entries[0]!.anchors[0]!.spkiSha256).toBe(h.model.cert.spkiSha256);
    const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'ES256', typ: TOKEN_LIST_JWS_TYPE, kid: v.kid });
  });

  it('signs and verifies with an Ed25519 key (EdDSA)', async () => {
    const ed = publisher('ed25519');
    const jws = await sign(ed);
    expect(JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()).alg).toBe('EdDSA');
    expect((await verifyTokenList(jws, { publisherKeys: [ed.publicKey] })).publisher).toBe(
      'Smartcard Sector Body',
    );
  });

  it('accepts either of two pinned keys (rotation)', async () => {
    const next = publisher();
    const jws = await sign(next);
    expect(await code(verifyTokenList(jws, { publisherKeys: [pub.publicKey, next.publicKey] }))).toBe('OK');
  });

  it('rejects a tampered payload with LIST_SIGNATURE_INVALID', async () => {
    const jws = await sign(pub, {
      entries: [entry('dotnet', h.model.cert.spkiSha256, { status: 'revoked' })],
    });
    const [head, body, sig] = jws.split('.');
    const payload = Buffer.from(body!, 'base64url').toString().replace('"revoked"', '"approved"');
    const tampered = `${head}.${Buffer.from(payload).toString('base64url')}.${sig}`;
    expect(await code(verifyTokenList(tampered, { publisherKeys: [pub.publicKey] }))).toBe(
      'LIST_SIGNATURE_INVALID',
    );
  });

  it('rejects a list signed by a key that is not pinned', async () => {
    const other = publisher();
    const jws = await sign(other);
    expect(await code(verifyTokenList(jws, { publisherKeys: [pub.publicKey] }))).toBe(
      'LIST_SIGNATURE_INVALID',
    );
  });

  it('rejects a list whose kid names the pinned key but whose signature is from another key', async () => {
    const other = publisher();
    const payload = new TextEncoder().encode(JSON.stringify(list()));
    const jws = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'ES256', typ: TOKEN_LIST_JWS_TYPE, kid: publisherKeyId(pub.publicKey) })
      .sign(other.privateKey);
    expect(await code(verifyTokenList(jws, { publisherKeys: [pub.publicKey] }))).toBe(
      'LIST_SIGNATURE_INVALID',
    );
  });

  it('refuses a wrong typ, extra header members and an empty key set', async () => {
    const payload = new TextEncoder().encode(JSON.stringify(list()));
    const kid = publisherKeyId(pub.publicKey);
    const wrongTyp = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
      .sign(pub.privateKey);
    expect(await code(verifyTokenList(wrongTyp, { publisherKeys: [pub.publicKey] }))).toBe(
      'LIST_SIGNATURE_INVALID',
    );
    const withJwk = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'ES256', typ: TOKEN_LIST_JWS_TYPE, kid, jwk: { kty: 'EC' } as never })
      .sign(pub.privateKey);
    expect(await code(verifyTokenList(withJwk, { publisherKeys: [pub.publicKey] }))).toBe(
      'LIST_SIGNATURE_INVALID',
    );
    expect(await code(verifyTokenList(await sign(pub), { publisherKeys: [] }))).toBe(
      'LIST_SIGNATURE_INVALID',
    );
  });

  it('rejects a validly signed payload that breaks the schema with LIST_INVALID', async () => {
    const payload = new TextEncoder().encode(JSON.stringify({ ...list(), revokd: [] }));
    const jws = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'ES256', typ: TOKEN_LIST_JWS_TYPE, kid: publisherKeyId(pub.publicKey) })
      .sign(pub.privateKey);
    expect(await code(verifyTokenList(jws, { publisherKeys: [pub.publicKey] }))).toBe('LIST_INVALID');
    expect(await code(verifyTokenList('not a jws', { publisherKeys: [pub.publicKey] }))).toBe('LIST_INVALID');
  });

  it('refuses to sign an invalid list (duplicate ids, nextUpdate before issuedAt)', async () => {
    const e = entry('a', h.model.cert.spkiSha256);
    expect(await code(signTokenList(list({ entries: [e, e] }), pub.privateKey))).toBe('LIST_INVALID');
    expect(
      await code(signTokenList(list({ nextUpdate: new Date(NOW - 2 * DAY).toISOString() }), pub.privateKey)),
    ).toBe('LIST_INVALID');
  });

  it('rejects an anchor certificate whose key differs from the anchor hash', async () => {
    const bad = entry('a', h.model.cert.spkiSha256, {
      anchors: [
        { spkiSha256: h.model.cert.spkiSha256, certificate: Buffer.from(h.line.der).toString('base64') },
      ],
    });
    expect(await code(signTokenList(list({ entries: [bad] }), pub.privateKey))).toBe('LIST_INVALID');
  });

  it('rejects a rollback of sequence, and a different list under the same sequence', async () => {
    const jws5 = await sign(pub, { sequence: 5 });
    expect(
      await code(verifyTokenList(jws5, { publisherKeys: [pub.publicKey], lastSeen: { sequence: 6 } })),
    ).toBe('LIST_ROLLBACK');
    expect(
      await code(
        verifyTokenList(jws5, { publisherKeys: [pub.publicKey], lastSeen: { sequence: 5, jws: jws5 } }),
      ),
    ).toBe('OK');
    const other5 = await sign(pub, { sequence: 5, publisher: 'Someone else' });
    expect(
      await code(
        verifyTokenList(other5, { publisherKeys: [pub.publicKey], lastSeen: { sequence: 5, jws: jws5 } }),
      ),
    ).toBe('LIST_ROLLBACK');
    expect(
      await code(verifyTokenList(jws5, { publisherKeys: [pub.publicKey], lastSeen: { sequence: 4 } })),
    ).toBe('OK');
  });

  it('is stale after nextUpdate, fresh again within the grace', async () => {
    const jws = await sign(pub);
    const after = NOW + 31 * DAY;
    expect(await code(verifyTokenList(jws, { publisherKeys: [pub.publicKey], now: after }))).toBe(
      'LIST_STALE',
    );
    expect(
      await code(verifyTokenList(jws, { publisherKeys: [pub.publicKey], now: after, graceMs: 2 * DAY })),
    ).toBe('OK');
  });

  it('rejects a list issued in the future and one above the size limit', async () => {
    const jws = await sign(pub, {
      issuedAt: new Date(NOW + DAY).toISOString(),
      nextUpdate: new Date(NOW + 30 * DAY).toISOString(),
    });
    expect(await code(verifyTokenList(jws, { publisherKeys: [pub.publicKey], now: NOW }))).toBe(
      'LIST_INVALID',
    );
    expect(await code(verifyTokenList('a'.repeat(5 * 1024 * 1024), { publisherKeys: [pub.publicKey] }))).toBe(
      'INPUT_TOO_LARGE',
    );
  });
});
