/**
 * Certificate profiles from the service configuration: defaults, extended key usage names,
 * the CRL URL, and CONFIG_INVALID naming the field for every kind of mistake.
 */
import { describe, expect, it } from 'vitest';
import {
  certificateProfilesSchema,
  crlUrlFor,
  EXTENDED_KEY_USAGES,
  parseProfiles,
  profilesFromConfig,
} from '../../src/ca/profiles.js';
import { isProvenanceError } from '../../src/core/errors.js';

function configError(section: unknown): { code: string; path: unknown; message: string } {
  try {
    parseProfiles(section);
  } catch (err) {
    if (isProvenanceError(err)) return { code: err.code, path: err.details['path'], message: err.message };
    throw err;
  }
  throw new Error('no error');
}

describe('parseProfiles', () => {
  it('gives the design default profile when the section is absent', () => {
    expect(parseProfiles(undefined)).toEqual([
      {
        id: 'default',
        validityDays: 365,
        keyUsage: ['digitalSignature'],
        extendedKeyUsage: ['1.3.6.1.5.5.7.3.2'],
        subjectTemplate: '{subject}',
        certificatePolicies: [],
        includeDeviceSerial: false,
      },
    ]);
  });

  it('fills every field a profile leaves out', () => {
    const [p] = parseProfiles({ signing: { extendedKeyUsage: ['documentSigning'] } });
    expect(p).toMatchObject({ id: 'signing', validityDays: 365, keyUsage: ['digitalSignature'] });
  });

  it('maps the four purpose names to their KeyPurposeIds, documentSigning to RFC 9336', () => {
    const [p] = parseProfiles({
      all: { extendedKeyUsage: ['clientAuth', 'emailProtection', 'codeSigning', 'documentSigning'] },
    });
    expect(p?.extendedKeyUsage).toEqual([
      '1.3.6.1.5.5.7.3.2',
      '1.3.6.1.5.5.7.3.4',
      '1.3.6.1.5.5.7.3.3',
      '1.3.6.1.5.5.7.3.36',
    ]);
    expect(EXTENDED_KEY_USAGES.documentSigning).toBe('1.3.6.1.5.5.7.3.36');
  });

  it("accepts dotted OIDs, e.g. Microsoft's document signing purpose beside RFC 9336's", () => {
    const [p] = parseProfiles({
      office: { extendedKeyUsage: ['documentSigning', '1.3.6.1.4.1.311.10.3.12'] },
    });
    expect(p?.extendedKeyUsage).toEqual(['1.3.6.1.5.5.7.3.36', '1.3.6.1.4.1.311.10.3.12']);
  });

  it('derives the CRL distribution point from publicUrl, unless the profile names one', () => {
    const profiles = parseProfiles(
      { a: {}, b: { crlUrl: 'http://crl.example.com/ca.crl' } },
      { publicUrl: 'https://pki.example.com/' },
    );
    expect(profiles.map((p) => p.crlUrl)).toEqual([
      'https://pki.example.com/api/v1/crl',
      'http://crl.example.com/ca.crl',
    ]);
    expect(crlUrlFor('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/api/v1/crl');
    expect(parseProfiles({ a: {} })[0]?.crlUrl).toBeUndefined();
  });

  it('exports the zod schema for a config loader, and converts its output', () => {
    const parsed = certificateProfilesSchema.parse({ x: { validityDays: 30, includeDeviceSerial: true } });
    expect(profilesFromConfig(parsed)[0]).toMatchObject({
      id: 'x',
      validityDays: 30,
      includeDeviceSerial: true,
    });
  });

  it.each([
    [
      'keyCertSign (issued certificates are not CAs)',
      { p: { keyUsage: ['keyCertSign'] } },
      ['profiles', 'p', 'keyUsage', 0],
    ],
    ['an empty keyUsage', { p: { keyUsage: [] } }, ['profiles', 'p', 'keyUsage']],
    [
      'a key usage twice',
      { p: { keyUsage: ['digitalSignature', 'digitalSignature'] } },
      ['profiles', 'p', 'keyUsage'],
    ],
    [
      'an unknown purpose name',
      { p: { extendedKeyUsage: ['serverAuthz'] } },
      ['profiles', 'p', 'extendedKeyUsage', 0],
    ],
    [
      'a purpose by name and by OID',
      { p: { extendedKeyUsage: ['clientAuth', '1.3.6.1.5.5.7.3.2'] } },
      ['profiles', 'p', 'extendedKeyUsage'],
    ],
    [
      'a template without {subject}',
      { p: { subjectTemplate: 'CN=Everyone' } },
      ['profiles', 'p', 'subjectTemplate'],
    ],
    [
      'a template with {subject} twice',
      { p: { subjectTemplate: '{subject},{subject}' } },
      ['profiles', 'p', 'subjectTemplate'],
    ],
    [
      'a bad policy OID',
      { p: { certificatePolicies: ['1.3.6.01'] } },
      ['profiles', 'p', 'certificatePolicies', 0],
    ],
    ['validityDays 0', { p: { validityDays: 0 } }, ['profiles', 'p', 'validityDays']],
    ['validityDays 1.5', { p: { validityDays: 1.5 } }, ['profiles', 'p', 'validityDays']],
    ['an unknown field', { p: { validity: 30 } }, ['profiles', 'p']],
    [
      'a non-boolean includeDeviceSerial',
      { p: { includeDeviceSerial: 'yes' } },
      ['profiles', 'p', 'includeDeviceSerial'],
    ],
    ['an ftp CRL URL', { p: { crlUrl: 'ftp://example.com/crl' } }, ['profiles', 'p', 'crlUrl']],
    ['an upper-case profile id', { Default: {} }, ['profiles', 'Default']],
    ['no profile at all', {}, ['profiles']],
    ['a list instead of a map', [{ id: 'p' }], ['profiles']],
  ])('refuses %s with CONFIG_INVALID naming the field', (_name, section, path) => {
    const error = configError(section);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.path).toEqual(path);
    expect(error.message.startsWith(`${path.join('.')}:`)).toBe(true);
  });
});
