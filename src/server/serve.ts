/**
 * `provenance serve`: start the provisioning service on a data directory.
 *
 * First start on an empty directory creates, in order: `config.yaml` (commented defaults),
 * the SQLite database, the issuing CA (`ca/`, keys encrypted with PROVENANCE_CA_PASSPHRASE
 * when set, else unencrypted with mode 0600 and a loud warning: the service must start
 * unattended), and the bootstrap admin token (all scopes) in `admin-token` (mode 0600), printed
 * once. With `demo`, also a demo maker and `demo/policy.yaml` trusting it, used when no other
 * policy exists. A later start reuses everything and prints no secret.
 *
 * Plain HTTP is refused on an address other than loopback unless `insecureListen` (secrets
 * travel in the Authorization header). A taken port is LISTEN_FAILED naming the address.
 *
 * @example
 * const service = await startService({ data: 'provenance-data', demo: true, env: process.env,
 *   clock: Date.now, out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
 * process.on('SIGTERM', () => void service.close());
 */

import { randomUUID } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildCrl } from '../ca/crl.js';
import { caDirectoryState, initCa, type OpenedCa, openCa } from '../ca/directory.js';
import { issueCertificate } from '../ca/issue.js';
import type { Clock } from '../core/clock.js';
import { fail, isProvenanceError, ProvenanceError } from '../core/errors.js';
import { KeyCache } from '../pki/keys.js';
import { loadPolicyFile } from '../policy/load.js';
import type { Policy } from '../policy/model.js';
import { redactDatabaseUrl } from '../store/postgres.js';
import { openStore } from '../store/store.js';
import { ALL_SCOPES, type Store } from '../store/types.js';
import { type FileAccess, nodeFileAccess } from '../token/software/file-access.js';
import { trustDirForDataDir } from '../trust/catalog/store.js';
import { TokenListKeeper } from '../trust/lists/keeper.js';
import { importListStateFile, storeListStatePersistence } from '../trust/lists/store-persistence.js';
import { isListProblem } from '../trust/lists/types.js';
import { RevocationCache, type RevocationFetch } from '../trust/revocation/cache.js';
import { buildApp } from './app.js';
import { type ConfigOverrides, isLoopback, loadServiceConfig, type ServiceConfig, urlFor } from './config.js';
import { type DemoPaths, ensureDemo } from './demo.js';
import { PolicyHolder } from './policy-holder.js';
import { newAdminToken } from './secrets.js';
import type { ServiceCa } from './service-ca.js';

/** The bootstrap admin token file inside the data directory. */
export const ADMIN_TOKEN_FILE = 'admin-token';
/** The data directory when none is given. */
export const DEFAULT_DATA_DIR = './provenance-data';
/** The issuing CA's name on first start. */
export const DEFAULT_CA_NAME = 'Provenance Issuing CA';
/** Where releases before the store's `trust_lists` kept the last good token lists (imported on start). */
export const LEGACY_LIST_STATE_FILE = 'trust-lists.json';

/** Options of `startService` (the CLI's flags, plus injected effects). */
export interface ServeOptions extends ConfigOverrides {
  /** Data directory (default ./provenance-data). */
  readonly data?: string;
  /** Serve plain HTTP on a non-loopback address anyway. */
  readonly insecureListen?: boolean;
  /** Create and use the demo maker and policy. */
  readonly demo?: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Default: pino on stderr at $PROVENANCE_LOG_LEVEL (info). */
  readonly logger?: FastifyBaseLogger;
  /** How to invoke the CLI in the printed next steps (default `provenance`). */
  readonly cli?: string;
  /** Base of relative paths (default process.cwd()). */
  readonly cwd?: string;
  readonly files?: FileAccess;
  /** How revocation data (CRLs, status lists) is fetched (default: the global fetch). */
  readonly fetch?: RevocationFetch;
}

/** How often the service refetches revocation data that is due (ms). */
export const REVOCATION_REFRESH_MS = 60_000;

/** A running service. */
export interface RunningService {
  readonly app: FastifyInstance;
  readonly config: ServiceConfig;
  /** The address actually bound (the port is resolved when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
  /** The base URL to reach it at. */
  readonly url: string;
  readonly store: Store;
  readonly policies: PolicyHolder;
  /** Re-read the policy file (SIGHUP); the old policy stays on a failure, which is thrown. */
  reloadPolicy(): Promise<Policy | null>;
  /** Stop accepting, finish in-flight requests, close the store. Idempotent. */
  close(): Promise<void>;
  /** Resolves once closed. */
  readonly closed: Promise<void>;
}

/**
 * Start the service: prepare the data directory, open store, CA and policy, listen, print
 * the URLs and next steps.
 *
 * @example
 * const service = await startService({ data: dir, listen: '127.0.0.1:0', env: {}, clock: Date.now, out, err });
 * await fetch(`${service.url}/healthz`);
 * await service.close();
 */
export async function startService(options: ServeOptions): Promise<RunningService> {
  const files = options.files ?? nodeFileAccess();
  const cwd = options.cwd ?? process.cwd();
  const cli = options.cli ?? 'provenance';
  const dataDir = options.data ?? DEFAULT_DATA_DIR;
  const logger =
    options.logger ??
    (pino(
      { level: options.env['PROVENANCE_LOG_LEVEL'] ?? 'info', base: { service: 'provenance' } },
      pino.destination(2),
    ) as unknown as FastifyBaseLogger);

  // The data directory holds keys and secrets: owner only.
  const dirFromCwd = resolve(cwd, dataDir);
  try {
    await mkdir(dirFromCwd, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ProvenanceError('IO_ERROR', `cannot create the data directory ${dataDir}`, {}, { cause: err });
  }
  const config = await loadServiceConfig(dataDir, overridesOf(options), { files, cwd });
  const show = (path: string) => displayPath(cwd, path);

  // RFC 9110 §11.4: credentials travel in the Authorization header; off loopback they need TLS.
  if (config.tls === null && !isLoopback(config.listen.host) && options.insecureListen !== true)
    fail(
      'USAGE',
      `refusing plain HTTP on ${config.listen.host}: enrollment codes and admin tokens would travel in clear. ` +
        'Give --tls-cert and --tls-key (or tls: in config.yaml), listen on 127.0.0.1 behind a TLS proxy, ' +
        'or pass --insecure-listen',
    );
  const https = config.tls === null ? null : await readTls(config.tls, files);

  const demo = options.demo ? await ensureDemo(config.dir, { files, clock: options.clock }) : null;
  const policySource = await choosePolicy(config, demo, files);

  const store = await openStore(config.db, {
    logger: logger as unknown as pino.Logger,
    clock: options.clock,
    // WAL checkpoints (an fsync every ~1000 pages) off the event loop: see SqliteOptions.checkpoint.
    sqliteCheckpoint: 'background',
  });
  try {
    await restrictDatabaseFiles(config.db);
    const passphrase = options.env['PROVENANCE_CA_PASSPHRASE'] || null;
    const { ca, created: caCreated } = await openOrCreateCa(
      config,
      passphrase,
      options.clock,
      files,
      options.demo,
    );
    for (const warning of ca.warnings) options.err(`warning: ${warning}\n`);
    if (caCreated)
      await store.audit.append({
        event: 'ca.created',
        actor: 'system',
        subject: `ca:${ca.certificate.spkiSha256}`,
        data: {
          name: ca.record.name,
          alg: ca.record.alg,
          spkiSha256: ca.certificate.spkiSha256,
          rootSpkiSha256: ca.root.spkiSha256,
          encrypted: ca.keyEncrypted,
        },
        at: options.clock(),
      });

    const bootstrapToken = await ensureAdminToken(store, config, files, options.clock);
    const keyCache = new KeyCache();
    // Signed token lists (docs/token-list.md): the last good copies live in the store, so a
    // restart works offline and a list's sequence never goes backwards, across instances
    // sharing the database too. A data directory from before the store kept them still has
    // trust-lists.json: fold it in (forward-only, so repeating it on every start is harmless).
    await importListStateFile(store, join(config.dir, LEGACY_LIST_STATE_FILE));
    const tokenLists = new TokenListKeeper({
      clock: options.clock,
      persistence: storeListStatePersistence(store),
      onRefresh: (lists) => {
        for (const [id, l] of lists)
          if (isListProblem(l)) options.err(`warning: token list "${id}": ${l.code}: ${l.message}\n`);
      },
    });
    // Fetched revocation data (docs/api.md "Revocation"): one cache for every policy. The
    // policy's status-list URLs are fetched at start and on reload without waiting, a timer
    // refetches what is due, and an enrollment fetches what its validated path still lacks.
    const revocation = new RevocationCache({
      fetch: options.fetch ?? ((url, init) => fetch(url, init)),
      clock: options.clock,
    });
    // `catalog:` trust entries name anchors installed with `provenance trust add --dir <data>/trust`.
    const trustDir = trustDirForDataDir(dirFromCwd);
    const firstPolicy = policySource === null ? null : loadPolicyFile(policySource, { trustDir });
    await tokenLists.refresh(firstPolicy?.lists ?? []);
    const policies = new PolicyHolder({
      clock: options.clock,
      keyCache,
      policy: firstPolicy,
      lists: () => tokenLists.current(),
      revocation,
    });
    tokenLists.start(() => policies.get()?.policy.lists ?? []);
    void prefetchStatusLists(revocation, firstPolicy);
    const revocationTimer = setInterval(() => void revocation.refreshDue(), REVOCATION_REFRESH_MS);
    revocationTimer.unref();
    const app = buildApp({
      store,
      ca: serviceCa(ca),
      policy: policies,
      config,
      clock: options.clock,
      logger,
      https,
      revocation,
    });

    const address = await listen(app, config);
    const url = urlFor(address, https !== null);
    await store.audit.append({
      event: 'service.started',
      actor: 'system',
      subject: 'service',
      data: {
        listen: `${address.host}:${address.port}`,
        publicUrl: config.publicUrl,
        db: store.kind,
        caSpkiSha256: ca.certificate.spkiSha256,
        policyDigest: policies.get()?.policy.digest ?? null,
        demo: options.demo === true,
      },
      at: options.clock(),
    });

    let closing: Promise<void> | null = null;
    let resolveClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    const service: RunningService = {
      app,
      config,
      address,
      url,
      store,
      policies,
      closed,
      async reloadPolicy() {
        const path = await choosePolicy(config, demo, files);
        const policy = path === null ? null : loadPolicyFile(path, { trustDir });
        await tokenLists.refresh(policy?.lists ?? []);
        policies.set(policy);
        void prefetchStatusLists(revocation, policy);
        return policy;
      },
      close() {
        closing ??= (async () => {
          try {
            tokenLists.stop();
            clearInterval(revocationTimer);
            await app.close();
          } finally {
            await store.close();
            resolveClosed();
          }
        })();
        return closing;
      },
    };

    printBanner(options.out, {
      url,
      config,
      show,
      bootstrapToken,
      policy: policySource,
      demo,
      cli,
      caCreated,
      tokenFileExists: await files.exists(join(config.dir, ADMIN_TOKEN_FILE)),
    });
    if (policySource === null)
      options.err(
        `warning: no policy: ${show(config.policy)} does not exist, so every enrollment is refused (failing closed). ` +
          'Write one (docs/policy.md) and send SIGHUP or restart, pass --policy FILE, or try --demo\n',
      );
    return service;
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** Fetch the status lists the policy names by URL (failures are recorded in the cache, never thrown). */
async function prefetchStatusLists(cache: RevocationCache, policy: Policy | null): Promise<void> {
  const jobs = (policy?.revocation ?? [])
    .filter((r) => r.statusList?.kind === 'url')
    .map((r) => cache.prefetch([], r));
  await Promise.all(jobs);
}

function overridesOf(o: ServeOptions): ConfigOverrides {
  return {
    ...(o.config === undefined ? {} : { config: o.config }),
    ...(o.policy === undefined ? {} : { policy: o.policy }),
    ...(o.db === undefined ? {} : { db: o.db }),
    ...(o.listen === undefined ? {} : { listen: o.listen }),
    ...(o.tlsCert === undefined ? {} : { tlsCert: o.tlsCert }),
    ...(o.tlsKey === undefined ? {} : { tlsKey: o.tlsKey }),
  };
}

/** The policy file to load: --policy, else the configured file if present, else the demo's. */
async function choosePolicy(
  config: ServiceConfig,
  demo: DemoPaths | null,
  files: FileAccess,
): Promise<string | null> {
  if (config.policyGiven) return config.policy;
  if (await files.exists(config.policy)) return config.policy;
  return demo?.policy ?? null;
}

async function readTls(
  tls: { cert: string; key: string },
  files: FileAccess,
): Promise<{ cert: Uint8Array; key: Uint8Array }> {
  const read = async (path: string, what: string) => {
    const bytes = await files.readFile(path, 1024 * 1024);
    if (bytes === null) fail('IO_ERROR', `cannot read the TLS ${what} ${path}: no such file`, { path });
    return bytes;
  };
  return { cert: await read(tls.cert, 'certificate'), key: await read(tls.key, 'key') };
}

/** The CA in `config.ca`: opened, or created on first start. */
async function openOrCreateCa(
  config: ServiceConfig,
  passphrase: string | null,
  clock: Clock,
  files: FileAccess,
  demo: boolean | undefined,
): Promise<{ ca: OpenedCa; created: boolean }> {
  const state = await caDirectoryState(config.ca, files);
  if (state === 'absent') {
    const name = demo ? 'Provenance Demo Issuing CA' : DEFAULT_CA_NAME;
    return { ca: await initCa(config.ca, { name, alg: 'p256', passphrase, clock, files }), created: true };
  }
  if (state === 'awaiting-certificate')
    fail(
      'CA_INVALID',
      `${config.ca} holds a CA request (ca.csr) waiting for its certificate: run "provenance ca install ${config.ca} CERT"`,
    );
  if (state === 'incomplete')
    fail('CA_INVALID', `${config.ca} holds part of a CA (an interrupted init?): move it away or complete it`);
  return { ca: await openCa(config.ca, { passphrase, clock, files }), created: false };
}

/** The ServiceCa over the CA module: issuance and CRLs with the opened CA. */
export function serviceCa(ca: OpenedCa): ServiceCa {
  return {
    issuing: ca,
    issue: async (request) => issueCertificate({ ...request, ca }),
    crl: async (request) => buildCrl({ ...request, ca }),
  };
}

/** On first start: the bootstrap admin token, saved with mode 0600 and returned to print once. */
async function ensureAdminToken(
  store: Store,
  config: ServiceConfig,
  files: FileAccess,
  clock: Clock,
): Promise<string | null> {
  if ((await store.adminTokens.list()).length > 0) return null;
  const { secret, hash } = newAdminToken();
  const id = randomUUID();
  const now = clock();
  await files.writeFileAtomic(join(config.dir, ADMIN_TOKEN_FILE), `${secret}\n`, { mode: 0o600 });
  await store.transaction(async (tx) => {
    await tx.adminTokens.create({
      id,
      name: 'bootstrap',
      tokenHash: hash,
      scopes: ALL_SCOPES,
      createdAt: now,
      revokedAt: null,
    });
    await tx.audit.append({
      event: 'token.created',
      actor: 'system',
      subject: `token:${id}`,
      data: { name: 'bootstrap', scopes: ALL_SCOPES },
      at: now,
    });
  });
  return secret;
}

/** SQLite files hold code and token hashes and every enrollment: owner only. */
async function restrictDatabaseFiles(db: string): Promise<void> {
  if (!db.startsWith('sqlite:') || db === 'sqlite::memory:') return;
  const path = db.slice('sqlite:'.length);
  for (const file of [path, `${path}-wal`, `${path}-shm`]) await chmod(file, 0o600).catch(() => undefined);
}

async function listen(app: FastifyInstance, config: ServiceConfig): Promise<{ host: string; port: number }> {
  const { host, port } = config.listen;
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close().catch(() => undefined);
    if (isProvenanceError(err)) throw err;
    const code = (err as NodeJS.ErrnoException)?.code;
    const where = `${host}:${port}`;
    const reason =
      code === 'EADDRINUSE'
        ? `${where} is already in use (another service, or an earlier provenance serve): stop it, or pass --listen ${host}:${port + 1}`
        : code === 'EACCES'
          ? `not permitted to listen on ${where} (ports below 1024 need privileges): pass --listen ${host}:8080`
          : code === 'EADDRNOTAVAIL'
            ? `${host} is not an address of this machine`
            : `cannot listen on ${where}: ${(err as Error)?.message ?? String(err)}`;
    throw new ProvenanceError('LISTEN_FAILED', reason, { address: where, errno: code }, { cause: err });
  }
  const bound = app.server.address();
  return {
    host,
    port: typeof bound === 'object' && bound !== null ? bound.port : port,
  };
}

/** A path as the user would type it: relative to the working directory when inside it. */
function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

/** Quote an argument for a POSIX shell when it needs it. */
function shellArg(text: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

function printBanner(
  out: (text: string) => void,
  b: {
    url: string;
    config: ServiceConfig;
    show: (path: string) => string;
    bootstrapToken: string | null;
    policy: string | null;
    demo: DemoPaths | null;
    cli: string;
    caCreated: boolean;
    tokenFileExists: boolean;
  },
): void {
  const { url, config, show } = b;
  const tokenFile = show(join(config.dir, ADMIN_TOKEN_FILE));
  const lines = [
    `Provenance provisioning service listening on ${url}`,
    `  API        ${url}/api/v1   (reference: docs/api.md)`,
    `  API docs   ${url}/docs   (OpenAPI: ${url}/docs/json)`,
    `  metrics    ${url}/metrics   health ${url}/healthz   ready ${url}/readyz`,
    `  CA chain   ${url}/api/v1/ca/certificates   CRL ${url}/api/v1/crl`,
    `  data       ${show(config.dir)} (config ${show(config.source)}, CA ${show(config.ca)}${b.caCreated ? ', created now' : ''})`,
    `  database   ${config.db.startsWith('sqlite:') ? `sqlite:${show(config.db.slice(7))}` : redactDatabaseUrl(config.db)}`,
    `  policy     ${b.policy === null ? 'NONE: every enrollment is refused' : show(b.policy)}`,
    '',
  ];
  if (b.bootstrapToken !== null) {
    lines.push(
      `Admin token (all scopes), shown this once; it is also in ${tokenFile} (mode 0600):`,
      `  ${b.bootstrapToken}`,
      '',
    );
  } else if (b.tokenFileExists) {
    lines.push(`Admin token: the bootstrap token is in ${tokenFile} (not shown again).`, '');
  } else {
    lines.push(
      `Admin token: admin tokens exist in the database, but ${tokenFile} is not here (another instance's first start?).`,
      '',
    );
  }
  const server = shellArg(url);
  const adminFile = shellArg(tokenFile);
  if (b.demo !== null) {
    const line = shellArg(show(b.demo.line));
    lines.push(
      'Next steps (demo; copy and paste, in another terminal):',
      '  1. a customer token, personalised by the demo maker:',
      `     ${b.cli} maker token my.token --parent ${line} --model 'Demo Token' --serial 0001 --pin 123456`,
      '  2. an enrollment code for the customer (the institution’s side):',
      `     ${b.cli} admin code create --server ${server} --admin-token-file ${adminFile} --customer demo --subject 'CN=Demo Customer'`,
      '  3. the customer enrolls: the key is made on the token, attested, and certified:',
      `     ${b.cli} enroll --server ${server} --token my.token --pin 123456 -o my-cert.pem --code CODE_FROM_STEP_2`,
      '',
    );
  } else {
    lines.push(
      'Next steps:',
      `  1. an enrollment code:  ${b.cli} admin code create --server ${server} --admin-token-file ${adminFile} --customer C --subject 'CN=Alice'`,
      `  2. the customer:        ${b.cli} enroll --server ${server} --token TOKEN_FILE --code CODE`,
      '  (a token from an allow-listed maker: see docs/policy.md; try --demo for a complete example)',
      '',
    );
  }
  lines.push('Stop with Ctrl-C (SIGINT) or SIGTERM; SIGHUP reloads the policy.', '');
  out(lines.join('\n'));
}
