/**
 * `provenance list …`: publish a signed token list from a list folder, and inspect or verify
 * a signed list. The folder holds `list.json` (the draft), `publisher-key.pem` (the signing
 * key, encrypted with PROVENANCE_PASSPHRASE or the prompt unless --no-passphrase) and
 * `publisher.pem` (the public key to hand to consumers). Thin over src/trust/lists.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { fail, isProvenanceError, ProvenanceError } from '../core/errors.js';
import { decryptMakerKey, encryptMakerKey, isEncryptedMakerKey } from '../maker/key-file.js';
import { parseCertificateBundle } from '../pki/bundle.js';
import { addEntry, checkDraft, newDraft, prepareSignature, revoke, setStatus } from '../trust/lists/draft.js';
import { parseDuration } from '../trust/lists/duration.js';
import {
  decodeTokenListUnverified,
  publisherKeyId,
  signTokenList,
  verifyTokenList,
} from '../trust/lists/jws.js';
import { readPublisherKeys } from '../trust/lists/keys.js';
import { describeIssue, type TokenListDraft, tokenListSchema } from '../trust/lists/schema.js';
import { TOKEN_LIST_STATUSES, type TokenListStatus, type VerifiedTokenList } from '../trust/lists/types.js';
import { askNewPassphrase, type CliContext, CliExit, EXIT, warn } from './context.js';
import { parseTimeOption, readInputFile } from './files.js';

const DRAFT = 'list.json';
const PRIVATE_KEY = 'publisher-key.pem';
const PUBLIC_KEY = 'publisher.pem';

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * Register `list init|add-entry|set-status|revoke|sign|show|verify`.
 *
 * @example
 * registerList(program, ctx);   // provenance list init sector --publisher "Smartcard Sector Body"
 */
export function registerList(program: Command, ctx: CliContext): void {
  const list = program
    .command('list')
    .description('publish and check signed token lists (industry allow-lists); see docs/token-list.md');

  list
    .command('init')
    .description('create a list folder: draft list.json, encrypted publisher-key.pem, publisher.pem')
    .argument('<dir>', 'the list folder')
    .requiredOption('--publisher <name>', 'the publishing body, e.g. "Smartcard Sector Body"')
    .addOption(
      new Option('--alg <alg>', 'publisher key algorithm').choices(['p256', 'ed25519']).default('p256'),
    )
    .option('--no-passphrase', 'write the publisher key unencrypted (not for real use)')
    .option('--force', 'replace an existing list folder')
    .action(
      async (
        dir: string,
        o: { publisher: string; alg: 'p256' | 'ed25519'; passphrase: boolean; force?: boolean },
      ) => {
        const existing = [DRAFT, PRIVATE_KEY].map((f) => join(dir, f)).find((f) => existsSync(f));
        if (existing !== undefined && !o.force)
          fail('USAGE', `${existing} exists: this folder already holds a list (use --force to replace it)`);
        const draft = newDraft(o.publisher);
        const passphrase = await newPassphrase(ctx, join(dir, PRIVATE_KEY), o.passphrase);
        const { privateKey, publicKey } =
          o.alg === 'p256'
            ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
            : generateKeyPairSync('ed25519');
        mkdirSync(dir, { recursive: true });
        writeFile(join(dir, PRIVATE_KEY), encryptMakerKey(privateKey, passphrase), 0o600);
        writeFile(join(dir, PUBLIC_KEY), publicKey.export({ type: 'spki', format: 'pem' }).toString());
        saveDraft(dir, draft);
        ctx.out(`list folder for "${o.publisher}" written to ${dir}\n`);
        ctx.out(`  draft        ${join(dir, DRAFT)}\n`);
        ctx.out(
          `  signing key  ${join(dir, PRIVATE_KEY)} (${o.alg}, ${passphrase === null ? 'NOT encrypted' : 'encrypted'})\n`,
        );
        ctx.out(
          `  public key   ${join(dir, PUBLIC_KEY)}: hand this to consumers (kid ${publisherKeyId(publicKey)})\n`,
        );
      },
    );

  list
    .command('add-entry')
    .description('add a token model or product line (its CA certificate key becomes an anchor)')
    .argument('<dir>', 'the list folder')
    .requiredOption('--cert <pem>', 'the CA certificate whose key vouches for the tokens')
    .requiredOption('--id <id>', 'entry id (an existing id gains the certificate as one more anchor)')
    .requiredOption('--level <n>', 'assurance level (0–255)')
    .option('--maker <name>', 'maker (default: the certificate subject O)')
    .option('--product <name>', 'product (default: the certificate subject CN)')
    .option('--model <name>', 'model')
    .addOption(
      new Option('--status <status>', 'initial status').choices([...TOKEN_LIST_STATUSES]).default('approved'),
    )
    .option('--notes <text>', 'free text')
    .option(
      '--deny-firmware <range>',
      'firmware range to refuse, e.g. ">=4.2.6 <4.3.5" (repeatable)',
      collect,
      [],
    )
    .action(
      (
        dir: string,
        o: {
          cert: string;
          id: string;
          level: string;
          maker?: string;
          product?: string;
          model?: string;
          status: TokenListStatus;
          notes?: string;
          denyFirmware: string[];
        },
      ) => {
        if (!/^\d{1,3}$/.test(o.level) || Number(o.level) > 255)
          fail('USAGE', `--level must be 0–255, not "${o.level}"`);
        const certs = parseCertificateBundle(readInputFile(o.cert, 'certificate'));
        if (certs.length !== 1)
          fail('USAGE', `--cert ${o.cert}: expected one certificate, found ${certs.length}`);
        const cert = certs[0]!;
        if (cert.basicConstraints?.ca !== true)
          warn(ctx, `${o.cert} is not a CA certificate: an anchor normally is the CA that certifies tokens`);
        const { draft, added } = addEntry(
          loadDraft(dir),
          {
            id: o.id,
            certificate: cert,
            level: Number(o.level),
            status: o.status,
            firmwareDenied: o.denyFirmware,
            ...(o.maker === undefined ? {} : { maker: o.maker }),
            ...(o.product === undefined ? {} : { product: o.product }),
            ...(o.model === undefined ? {} : { model: o.model }),
            ...(o.notes === undefined ? {} : { notes: o.notes }),
          },
          ctx.clock(),
        );
        saveDraft(dir, draft);
        const message = {
          entry: `added entry "${o.id}"`,
          anchor: `added an anchor to entry "${o.id}"`,
          none: `entry "${o.id}" already has this anchor: nothing changed`,
        }[added];
        ctx.out(`${message}: ${cert.subject.text} (sha256:${cert.spkiSha256})\n`);
        if (added !== 'none')
          ctx.out(`sign the list to publish it: provenance list sign ${dir} -o LIST.jws\n`);
      },
    );

  list
    .command('set-status')
    .description(`change an entry's status (${TOKEN_LIST_STATUSES.join(', ')})`)
    .argument('<dir>', 'the list folder')
    .argument('<id>', 'entry id')
    .argument('<status>', TOKEN_LIST_STATUSES.join(' | '))
    .option('--notes <text>', 'why (recorded in the entry)')
    .action((dir: string, id: string, status: string, o: { notes?: string }) => {
      if (!(TOKEN_LIST_STATUSES as readonly string[]).includes(status))
        fail('USAGE', `status must be one of ${TOKEN_LIST_STATUSES.join(', ')}, not "${status}"`);
      saveDraft(dir, setStatus(loadDraft(dir), id, status as TokenListStatus, ctx.clock(), o.notes));
      ctx.out(`entry "${id}" is now ${status}\n`);
    });

  list
    .command('revoke')
    .description('revoke a key anywhere in a path (token attestation key, batch key, CA key)')
    .argument('<dir>', 'the list folder')
    .option('--cert <pem>', "revoke this certificate's key (every certificate for the key)")
    .option('--spki <sha256>', 'revoke a key by SPKI SHA-256 (hex, optionally "sha256:")')
    .option('--certificate-sha256 <sha256>', 'revoke one certificate by its SHA-256 only')
    .option('--reason <text>', 'why', 'keyCompromise')
    .action(
      (dir: string, o: { cert?: string; spki?: string; certificateSha256?: string; reason: string }) => {
        const given = [o.cert, o.spki, o.certificateSha256].filter((x) => x !== undefined);
        if (given.length !== 1) fail('USAGE', 'give exactly one of --cert, --spki or --certificate-sha256');
        const now = new Date(ctx.clock()).toISOString().slice(0, 10);
        let item:
          | { spkiSha256: string; reason: string; since: string }
          | { certificateSha256: string; reason: string; since: string };
        if (o.cert !== undefined) {
          const certs = parseCertificateBundle(readInputFile(o.cert, 'certificate'));
          if (certs.length !== 1)
            fail('USAGE', `--cert ${o.cert}: expected one certificate, found ${certs.length}`);
          item = { spkiSha256: certs[0]!.spkiSha256, reason: o.reason, since: now };
        } else if (o.spki !== undefined) {
          item = { spkiSha256: hash(o.spki, '--spki'), reason: o.reason, since: now };
        } else {
          item = {
            certificateSha256: hash(o.certificateSha256!, '--certificate-sha256'),
            reason: o.reason,
            since: now,
          };
        }
        const { draft, added } = revoke(loadDraft(dir), item);
        saveDraft(dir, draft);
        const what =
          'spkiSha256' in item
            ? `key sha256:${item.spkiSha256}`
            : `certificate sha256:${item.certificateSha256}`;
        ctx.out(added ? `revoked ${what} (${o.reason})\n` : `${what} is already revoked: nothing changed\n`);
      },
    );

  list
    .command('sign')
    .description('sign the draft as a compact JWS (bumps sequence)')
    .argument('<dir>', 'the list folder')
    .requiredOption('-o, --output <file>', 'where to write the signed list (LIST.jws)')
    .option('--next-update <duration>', 'how long the list stays fresh, e.g. 30d', '30d')
    .action(async (dir: string, o: { output: string; nextUpdate: string }) => {
      const validity = parseDuration(o.nextUpdate, '--next-update');
      const key = await unlockPublisherKey(ctx, join(dir, PRIVATE_KEY));
      const published = readPublisherKeys([join(dir, PUBLIC_KEY)], readInputFile);
      if (published[0] === undefined || publisherKeyId(published[0]) !== publisherKeyId(key))
        fail('LIST_INVALID', `${join(dir, PUBLIC_KEY)} is not the public key of ${join(dir, PRIVATE_KEY)}`);
      const { list: doc, draft } = prepareSignature(loadDraft(dir), ctx.clock(), validity);
      const jws = await signTokenList(doc, key);
      writeFile(o.output, `${jws}\n`);
      saveDraft(dir, draft);
      ctx.out(
        `signed list sequence ${doc.sequence} (${doc.entries.length} entries, ${doc.revoked.length} revoked) to ${o.output}\n`,
      );
      ctx.out(`  next update  ${doc.nextUpdate}\n  kid          ${publisherKeyId(key)}\n`);
    });

  list
    .command('show')
    .description('print a signed list WITHOUT verifying it (use list verify to check it)')
    .argument('<file>', 'LIST.jws')
    .option('--json', 'print the header and payload as JSON')
    .action((file: string, o: { json?: boolean }) => {
      const { header, payload } = decodeTokenListUnverified(readText(file));
      if (o.json) {
        ctx.out(`${JSON.stringify({ verified: false, header, payload }, null, 2)}\n`);
        return;
      }
      warn(ctx, 'not verified: this shows what the list claims; run "provenance list verify" to check it');
      ctx.out(`header   ${JSON.stringify(header)}\n`);
      const parsed = tokenListSchema.safeParse(payload);
      if (!parsed.success) {
        warn(ctx, `the payload does not follow the token-list schema: ${describeIssue(parsed.error)}`);
        ctx.out(`${JSON.stringify(payload, null, 2)}\n`);
        return;
      }
      ctx.out(renderList(parsed.data as unknown as VerifiedTokenList));
    });

  list
    .command('verify')
    .description('verify a signed list against pinned publisher keys')
    .argument('<file>', 'LIST.jws')
    .requiredOption(
      '--publisher-key <pem>',
      'a pinned publisher public key (repeatable, for rotation)',
      collect,
      [],
    )
    .option('--at <iso-time>', 'check freshness at this time instead of now')
    .option('--min-sequence <n>', 'the last sequence seen: a lower one is a rollback')
    .option('--grace <duration>', 'accept this long after nextUpdate, e.g. 2d', '0s')
    .option('--json', 'print the verified list as JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 valid, 1 invalid (signature, schema, rollback, stale), 2 usage error.\n',
    )
    .action(
      async (
        file: string,
        o: { publisherKey: string[]; at?: string; minSequence?: string; grace: string; json?: boolean },
      ) => {
        const keys = readPublisherKeys(o.publisherKey, readInputFile);
        const now = o.at === undefined ? ctx.clock() : parseTimeOption(o.at);
        if (o.minSequence !== undefined && !/^\d{1,15}$/.test(o.minSequence))
          fail('USAGE', `--min-sequence must be a whole number, not "${o.minSequence}"`);
        const text = readText(file);
        let verified: VerifiedTokenList;
        try {
          verified = await verifyTokenList(text, {
            publisherKeys: keys,
            now,
            graceMs: parseDuration(o.grace, '--grace'),
            ...(o.minSequence === undefined ? {} : { lastSeen: { sequence: Number(o.minSequence) } }),
          });
        } catch (err) {
          if (!isProvenanceError(err) || !err.code.startsWith('LIST_')) throw err;
          if (o.json)
            ctx.out(`${JSON.stringify({ valid: false, code: err.code, message: err.message }, null, 2)}\n`);
          else ctx.out(`INVALID ${err.code}: ${err.message}\n`);
          throw new CliExit(EXIT.reject);
        }
        if (o.json) {
          const { jws: _jws, ...rest } = verified;
          ctx.out(`${JSON.stringify({ valid: true, ...rest }, null, 2)}\n`);
          return;
        }
        ctx.out(`VALID: signed by ${verified.kid}\n`);
        ctx.out(renderList(verified));
      },
    );
}

function renderList(l: VerifiedTokenList): string {
  const lines = [
    `publisher ${l.publisher}`,
    `sequence  ${l.sequence}`,
    `issued    ${l.issuedAt}`,
    `next      ${l.nextUpdate}`,
    `entries   ${l.entries?.length ?? 0}`,
  ];
  for (const e of l.entries ?? []) {
    lines.push(
      `  ${e.id}  ${e.status}  level ${e.level}  ${e.maker} / ${e.product}${e.model ? ` / ${e.model}` : ''}`,
    );
    for (const a of e.anchors ?? []) lines.push(`    anchor sha256:${a.spkiSha256}`);
    if (e.firmware?.denied?.length) lines.push(`    firmware denied: ${e.firmware.denied.join(' or ')}`);
  }
  lines.push(`revoked   ${l.revoked?.length ?? 0}`);
  for (const r of l.revoked ?? [])
    lines.push(
      `  ${'spkiSha256' in r ? `key sha256:${r.spkiSha256}` : `certificate sha256:${r.certificateSha256}`}  ${r.reason}`,
    );
  return `${lines.join('\n')}\n`;
}

function hash(text: string, option: string): string {
  const hex = text.replace(/^sha256:/i, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex))
    fail('USAGE', `${option} must be a SHA-256: 64 hex digits, optionally "sha256:"`);
  return hex;
}

function readText(file: string): string {
  return new TextDecoder().decode(readInputFile(file, 'token list'));
}

function loadDraft(dir: string): TokenListDraft {
  const path = join(dir, DRAFT);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ProvenanceError(
      missing ? 'USAGE' : 'LIST_INVALID',
      missing
        ? `${path} does not exist: create the folder with "provenance list init ${dir} --publisher NAME"`
        : `${path} is not JSON`,
      { path },
      { cause: err },
    );
  }
  return checkDraft(data, path);
}

function saveDraft(dir: string, draft: TokenListDraft): void {
  writeFile(join(dir, DRAFT), `${JSON.stringify(draft, null, 2)}\n`);
}

/** Write via a temporary file and rename, so a crash never leaves half a draft or key. */
function writeFile(path: string, text: string, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text, { mode });
    renameSync(tmp, path);
  } catch (err) {
    throw new ProvenanceError(
      'IO_ERROR',
      `cannot write ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}

function newPassphrase(ctx: CliContext, keyPath: string, encrypt: boolean): Promise<string | null> {
  return askNewPassphrase(ctx, {
    envVar: 'PROVENANCE_PASSPHRASE',
    what: keyPath,
    encrypt,
    unencryptedWarning: `*** ${keyPath} will NOT be encrypted: anyone who can read it can sign lists as this publisher ***`,
  });
}

async function unlockPublisherKey(ctx: CliContext, keyPath: string): Promise<KeyObject> {
  const pem = new TextDecoder().decode(readInputFile(keyPath, 'publisher key'));
  if (!isEncryptedMakerKey(pem, keyPath)) return decryptMakerKey(pem, null, keyPath);
  let passphrase = ctx.env['PROVENANCE_PASSPHRASE'];
  if ((passphrase === undefined || passphrase === '') && ctx.prompt)
    passphrase = await ctx.prompt(`Passphrase for ${keyPath}: `, { secret: true });
  if (passphrase === undefined || passphrase === '')
    fail('MAKER_KEY_LOCKED', `${keyPath} is encrypted: set PROVENANCE_PASSPHRASE`, { path: keyPath });
  return decryptMakerKey(pem, passphrase, keyPath);
}
