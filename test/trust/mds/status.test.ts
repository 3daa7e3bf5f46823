/**
 * summariseStatus: the latest report by effectiveDate wins; compromise statuses deny; levels.
 */
import { describe, expect, it } from 'vitest';
import { summariseStatus } from '../../../src/trust/mds/status.js';
import type { MdsStatusReport } from '../../../src/trust/mds/types.js';

function report(status: string, effectiveDate: string | null, certificate?: string): MdsStatusReport {
  return {
    status,
    effectiveDate,
    authenticatorVersion: null,
    certificateSha256: certificate ?? null,
    certificateSpkiSha256: certificate ? `spki-${certificate}` : null,
  };
}

describe('summariseStatus', () => {
  it('denies a model whose latest report is REVOKED or a user-key compromise', () => {
    for (const status of [
      'REVOKED',
      'USER_VERIFICATION_BYPASS',
      'USER_KEY_REMOTE_COMPROMISE',
      'USER_KEY_PHYSICAL_COMPROMISE',
    ]) {
      const s = summariseStatus([report('FIDO_CERTIFIED_L2', '2020-01-01'), report(status, '2021-01-01')]);
      expect(s).toMatchObject({ current: status, deny: true, denyReason: status, level: null, levelRank: 0 });
    }
  });

  it('takes the latest report by effectiveDate, not by array order', () => {
    const s = summariseStatus([report('FIDO_CERTIFIED_L3', '2022-01-01'), report('REVOKED', '2019-01-01')]);
    expect(s).toMatchObject({
      current: 'FIDO_CERTIFIED_L3',
      deny: false,
      level: 'FIDO_CERTIFIED_L3',
      levelRank: 3,
    });
  });

  it('breaks a tie on effectiveDate by array order, and dated reports beat undated ones', () => {
    expect(
      summariseStatus([report('FIDO_CERTIFIED_L1', '2020-01-01'), report('REVOKED', '2020-01-01')]).deny,
    ).toBe(true);
    expect(summariseStatus([report('FIDO_CERTIFIED_L1', '2020-01-01'), report('REVOKED', null)]).deny).toBe(
      false,
    );
  });

  it('keeps the certification level across a later UPDATE_AVAILABLE', () => {
    const s = summariseStatus([
      report('FIDO_CERTIFIED_L2plus', '2020-01-01'),
      report('UPDATE_AVAILABLE', '2021-01-01'),
    ]);
    expect(s).toMatchObject({
      current: 'UPDATE_AVAILABLE',
      deny: false,
      level: 'FIDO_CERTIFIED_L2plus',
      levelRank: 2.5,
    });
  });

  it('counts legacy FIDO_CERTIFIED as L1 and reads FIPS 140 levels', () => {
    expect(summariseStatus([report('FIDO_CERTIFIED', '2018-01-01')]).levelRank).toBe(1);
    expect(summariseStatus([report('FIPS140_CERTIFIED_L2', '2018-01-01')])).toMatchObject({
      fipsLevel: 2,
      levelRank: 0,
    });
  });

  it('denies the whole model for ATTESTATION_KEY_COMPROMISE without a certificate', () => {
    expect(summariseStatus([report('ATTESTATION_KEY_COMPROMISE', '2020-01-01')]).denyReason).toBe(
      'ATTESTATION_KEY_COMPROMISE',
    );
  });

  it('denies only the named key for ATTESTATION_KEY_COMPROMISE with a certificate, even after recertification', () => {
    const s = summariseStatus([
      report('FIDO_CERTIFIED_L1', '2019-01-01'),
      report('ATTESTATION_KEY_COMPROMISE', '2020-01-01', 'aa'),
      report('FIDO_CERTIFIED_L2', '2021-01-01'),
    ]);
    expect(s).toMatchObject({
      deny: false,
      level: 'FIDO_CERTIFIED_L2',
      compromisedKeys: ['spki-aa'],
      compromisedCertificates: ['aa'],
    });
    expect(summariseStatus([report('ATTESTATION_KEY_COMPROMISE', '2020-01-01', 'aa')]).deny).toBe(false);
  });

  it('treats no reports and unknown statuses as uncertified, not denied', () => {
    expect(summariseStatus([])).toMatchObject({ current: null, deny: false, level: null, levelRank: 0 });
    expect(summariseStatus([report('SOMETHING_NEW', '2030-01-01')])).toMatchObject({
      deny: false,
      levelRank: 0,
    });
  });
});
