/**
 * The YubiKey PIV token driver (docs/yubikey.md): an Attester over ykman and yubico-piv-tool.
 *
 * @example
 * const yk = new YubiKeyAttester({ runner: spawnRunner(), pin: '123456' });
 */
export * from './attester.js';
export * from './runner.js';
