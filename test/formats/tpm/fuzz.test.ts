/**
 * Fuzz of the TPM parsers and the statement decoder: random and mutated inputs only ever
 * throw ProvenanceError (never a RangeError or TypeError).
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  encodeTpmsAttest,
  encodeTpmtPublic,
  publicAreaFromKey,
  signTpmsAttest,
  TPM_AK_ATTRIBUTES,
  TPM_APP_KEY_ATTRIBUTES,
} from '../../../src/formats/tpm/encode.js';
import { decodeTpmCertifyStatement, encodeTpmCertifyStatement } from '../../../src/formats/tpm/statement.js';
import {
  parseTpmsAttest,
  parseTpmtPublic,
  parseTpmtSignature,
  TPM_ALG,
  tpmName,
  unwrapTpm2bPublic,
} from '../../../src/formats/tpm/structures.js';
import { fuzzParameters, mutatedBytes, outcome } from '../../helpers/fuzz.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ecPub = encodeTpmtPublic(publicAreaFromKey(ec.publicKey, { attributes: TPM_APP_KEY_ATTRIBUTES }));
const rsaPub = encodeTpmtPublic(
  publicAreaFromKey(rsa.publicKey, {
    attributes: TPM_AK_ATTRIBUTES,
    scheme: { scheme: TPM_ALG.RSASSA, hashAlg: TPM_ALG.SHA256 },
    symmetric: { algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB },
  }),
);
const certify = encodeTpmsAttest({
  qualifiedSigner: tpmName(rsaPub, TPM_ALG.SHA256),
  extraData: Uint8Array.of(1, 2, 3, 4),
  attested: {
    kind: 'certify',
    name: tpmName(ecPub, TPM_ALG.SHA256),
    qualifiedName: tpmName(ecPub, TPM_ALG.SHA256),
  },
});
const creation = encodeTpmsAttest({
  extraData: new Uint8Array(),
  attested: { kind: 'creation', objectName: tpmName(ecPub, TPM_ALG.SHA1), creationHash: new Uint8Array(32) },
});
const sigs = [
  signTpmsAttest(certify, ec.privateKey),
  signTpmsAttest(certify, rsa.privateKey, { sigAlg: TPM_ALG.RSAPSS }),
];
const statement = encodeTpmCertifyStatement({ tpmSAttest: certify, signature: sigs[0]!, tpmTPublic: ecPub });

const parsers: readonly [string, readonly Uint8Array[], (b: Uint8Array) => unknown, boolean][] = [
  ['parseTpmsAttest', [certify, creation], parseTpmsAttest, false],
  ['parseTpmtPublic', [ecPub, rsaPub], parseTpmtPublic, false],
  ['parseTpmtSignature', sigs, parseTpmtSignature, false],
  [
    'unwrapTpm2bPublic',
    [Uint8Array.from([0, ecPub.length, ...ecPub])],
    (b) => parseTpmtPublic(unwrapTpm2bPublic(b)),
    false,
  ],
  ['decodeTpmCertifyStatement', [statement], decodeTpmCertifyStatement, true],
];

describe('TPM parser fuzz: only ProvenanceError escapes', () => {
  for (const [name, seeds, parse, derAware] of parsers) {
    it(`${name}: mutated valid inputs`, () => {
      fc.assert(
        fc.property(mutatedBytes(seeds, derAware), (m) => {
          outcome(() => parse(m.bytes));
        }),
        fuzzParameters(400),
      );
    });
    it(`${name}: random bytes`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
          outcome(() => parse(bytes));
        }),
        fuzzParameters(300),
      );
    });
  }
});
