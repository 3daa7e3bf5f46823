/**
 * Subject names of the maker hierarchy, written as RFC 4514 text for `encodeName`. Names are
 * for display: verifiers trust keys (SPKI SHA-256), never names.
 *
 * @example
 * rootSubject('Gemalto NV')                          // 'CN=Gemalto NV,O=Gemalto NV'
 * tokenAttestationSubject('Gemalto .NET Card', '0001', 'Gemalto NV')
 *   // 'CN=Gemalto .NET Card attestation,serialNumber=0001,O=Gemalto NV'
 */

/**
 * Escape an attribute value for RFC 4514 text (§2.4): the specials anywhere, a leading '#' or
 * space, a trailing space.
 */
export function escapeDnValue(value: string): string {
  let out = value.replace(/[\\"+,;<>=]/g, (c) => `\\${c}`);
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** The manufacturer root: the maker names itself. */
export function rootSubject(name: string): string {
  return `CN=${escapeDnValue(name)},O=${escapeDnValue(name)}`;
}

/** An intermediate CA (product line, device class) of the maker. */
export function intermediateSubject(name: string, maker: string): string {
  return `CN=${escapeDnValue(name)},O=${escapeDnValue(maker)}`;
}

/** A batch attestation key: the subject names the batch, never a unit (privacy). */
export function batchSubject(name: string, batchId: string, maker: string): string {
  return `CN=${escapeDnValue(name)},serialNumber=${escapeDnValue(batchId)},O=${escapeDnValue(maker)}`;
}

/** A per-token attestation key: the subject names the token model and its serial. */
export function tokenAttestationSubject(model: string, serial: string, maker: string): string {
  return `CN=${escapeDnValue(`${model} attestation`)},serialNumber=${escapeDnValue(serial)},O=${escapeDnValue(maker)}`;
}
