/**
 * The whole story as a new user runs it, through the CLI against a real service: the service
 * starts with the demo maker, the maker personalises a token, the institution makes an
 * enrollment code, the customer enrolls, and the certificate verifies with Node (and openssl)
 * against the chain the service publishes, carrying the code's subject, the provenance summary
 * and the level's policy OID; then revocation shows in the CRL. On SQLite, and on PostgreSQL
 * when its server binaries are here.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assuranceLevelOf, provenanceSummaryOf } from '../../src/ca/summary.js';
import { createClient } from '../../src/client/api.js';
import { OID } from '../../src/core/oids.js';
import { decodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { parseCrl, verifyCrl } from '../../src/pki/crl.js';
import { runCli } from '../helpers/cli.js';
import { needPostgres, type PostgresCluster, startPostgres } from '../helpers/postgres.js';
import { needTool } from '../helpers/tools.js';
import { tempDirs } from '../maker/fixtures.js';
import { type E2eService, startE2eService } from './service.js';

const PIN = '13572468';
const SUBJECT = 'CN=Alice Example,O=Acme Bank Customers';
const TOKEN_SERIAL = 'SN-E2E-4242';
const dirs = tempDirs();
afterAll(() => dirs.cleanup());

function cli(args: string[]) {
  return runCli(args, { env: { PROVENANCE_PIN: PIN } });
}

function ok<T extends { code: number; err: string }>(r: T): T {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.err}`);
  return r;
}

/** The story on one backend. `db` undefined: the default SQLite file in the data directory. */
function story(name: string, db: () => Promise<string | undefined | null>) {
  describe(`the enrollment story on ${name}`, () => {
    let s: E2eService | null = null;
    let dir: string;
    let certFile: string;
    let enrolled: { enrollmentId: string; certificate: { serial: string } };
    let code: string;
    let dbUrl: string | undefined;

    beforeAll(async () => {
      const url = await db();
      if (url === null) return;
      dbUrl = url;
      dir = await dirs.make('provenance-e2e-story-');
      s = await startE2eService(dir, url === undefined ? {} : { db: url });
    });
    afterAll(async () => {
      await s?.close();
    });

    /** The running service; without one (no PostgreSQL here) the test skips, or fails under CI. */
    const ready = (ctx: { skip: (note?: string) => void }): E2eService => {
      if (s === null) needPostgres(ctx, null);
      return s!;
    };

    it('prints the URL, the admin token once and the next steps on first start', (ctx) => {
      const svc = ready(ctx);
      expect(svc.out).toContain(`listening on ${svc.url}`);
      expect(svc.out).toContain(svc.adminToken);
      expect(svc.out).toMatch(/enroll --server/);
    });

    it('personalises a token, makes a code, and enrolls through the CLI', async (ctx) => {
      const svc = ready(ctx);
      const token = join(dir, 'alice.token');
      ok(
        await cli([
          'maker',
          'token',
          token,
          '--parent',
          svc.line,
          '--model',
          'Demo Token',
          '--serial',
          TOKEN_SERIAL,
          '--pin',
          PIN,
        ]),
      );
      const made = ok(
        await cli([
          'admin',
          'code',
          'create',
          '--server',
          svc.url,
          '--admin-token-file',
          svc.adminTokenFile,
          '--customer',
          'acme',
          '--subject',
          SUBJECT,
          '--ttl',
          '1d',
          '--json',
        ]),
      );
      code = JSON.parse(made.out).code;
      certFile = join(dir, 'alice.pem');
      const r = ok(
        await cli([
          'enroll',
          '--server',
          svc.url,
          '--code',
          code,
          '--token',
          token,
          '-o',
          certFile,
          '--json',
        ]),
      );
      enrolled = JSON.parse(r.out);
      expect(enrolled).toMatchObject({ issued: true, matchedRule: 'demo-line', level: 1 });
    });

    it('issues a certificate that verifies against the published chain, with Node and openssl', async (ctx) => {
      const svc = ready(ctx);
      const chainPem = await createClient({ server: svc.url }).caCertificates();
      const [ca, root] = decodePem(chainPem).map((b) => new X509Certificate(b.der));
      const leaf = new X509Certificate(await readFile(certFile));
      expect(leaf.checkIssued(ca!)).toBe(true);
      expect(leaf.verify(ca!.publicKey)).toBe(true);
      expect(ca!.verify(root!.publicKey)).toBe(true);
      expect(root!.verify(root!.publicKey)).toBe(true);
      // The chain file written by enroll is the same chain.
      expect(await readFile(join(dir, 'alice.chain.pem'), 'utf8')).toBe(chainPem);

      needTool(ctx, 'openssl');
      await writeFile(join(dir, 'root.pem'), root!.toString());
      await writeFile(join(dir, 'ca.pem'), ca!.toString());
      const v = spawnSync(
        'openssl',
        [
          'verify',
          '-CAfile',
          join(dir, 'root.pem'),
          '-untrusted',
          join(dir, 'ca.pem'),
          '-purpose',
          'sslclient',
          certFile,
        ],
        { encoding: 'utf8' },
      );
      expect(`${v.stdout}${v.stderr}`).toContain(': OK');
    });

    it("carries the code's subject, the provenance summary and the level's policy OID", async (ctx) => {
      const svc = ready(ctx);
      const cert = parseCertificate(decodePem(await readFile(certFile, 'utf8'))[0]!.der);
      expect(cert.subject.text).toBe(SUBJECT);
      const summaryExt = cert.extensions.find((e) => e.oid === OID.provenanceSummary);
      expect(summaryExt?.critical).toBe(false);
      const summary = provenanceSummaryOf(cert)!;
      const demoRoot = parseCertificate(
        decodePem(await readFile(join(svc.dir, 'demo', 'maker', 'maker-root', 'cert.pem'), 'utf8'))[0]!.der,
      );
      expect(summary).toMatchObject({
        ruleId: 'demo-line',
        format: 'provenance',
        anchorSpkiSha256: demoRoot.spkiSha256,
      });
      expect(summary.deviceSerial).toBeUndefined();
      expect(assuranceLevelOf(cert)).toBe(1);
      expect(cert.basicConstraints).toEqual({ ca: false, pathLen: null });
      const crlDp = cert.extensions.find((e) => e.oid === OID.crlDistributionPoints);
      expect(Buffer.from(crlDp!.value).toString('latin1')).toContain('/api/v1/crl');
    });

    it('keeps the device serial out of the stored enrollment (privacy by default)', async (ctx) => {
      const svc = ready(ctx);
      const record = await svc.service.store.enrollments.get(enrolled.enrollmentId);
      expect(record).toMatchObject({ status: 'issued', code: 'ACCEPTED', evidence: null });
      const stored = JSON.stringify({ verdict: record!.verdict, policyInput: record!.policyInput });
      expect(stored).not.toContain(TOKEN_SERIAL);
      expect(stored).toMatch(/serialSha256/);
      const cert = await svc.service.store.certificates.get(enrolled.certificate.serial);
      expect(cert).toMatchObject({ status: 'good', subject: SUBJECT, enrollmentId: enrolled.enrollmentId });
    });

    it('refuses a second enrollment with the same code (exit 1, ENROLLMENT_CODE_USED)', async (ctx) => {
      const svc = ready(ctx);
      const r = await cli([
        'enroll',
        '--server',
        svc.url,
        '--code',
        code,
        '--token',
        join(dir, 'alice.token'),
        '--label',
        'second',
        '-o',
        join(dir, 'second.pem'),
      ]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/ENROLLMENT_CODE_USED/);
      expect(r.err).toMatch(/new enrollment code/);
    });

    it('shows a revocation in the signed CRL', async (ctx) => {
      const svc = ready(ctx);
      ok(
        await cli([
          'admin',
          'cert',
          'revoke',
          enrolled.certificate.serial,
          '--reason',
          'keyCompromise',
          '--server',
          svc.url,
          '--admin-token-file',
          svc.adminTokenFile,
        ]),
      );
      const der = await createClient({ server: svc.url }).crl();
      const crl = parseCrl(der);
      const ca = parseCertificate(decodePem(await readFile(join(dir, 'alice.chain.pem'), 'utf8'))[0]!.der);
      expect(() => verifyCrl(crl, ca)).not.toThrow();
      expect(crl.isRevoked(enrolled.certificate.serial)?.reason).toBe('keyCompromise');
      expect((await svc.service.store.certificates.get(enrolled.certificate.serial))?.status).toBe('revoked');
    });

    it('keeps an intact audit chain with the stable event names', async (ctx) => {
      const svc = ready(ctx);
      const audit = await svc.service.store.verifyAudit();
      expect(audit.ok).toBe(true);
      const events = (await svc.service.store.audit.list({ limit: 100 })).items.map((e) => e.event);
      for (const e of [
        'ca.created',
        'token.created',
        'code.created',
        'enrollment.issued',
        'certificate.revoked',
      ])
        expect(events).toContain(e);
      const cliCheck = await cli([
        'audit',
        'verify',
        ...(dbUrl === undefined ? ['--data', dir] : ['--db', dbUrl]),
      ]);
      expect(cliCheck.code, cliCheck.err).toBe(0);
    });
  });
}

story('SQLite', async () => undefined);

let pg: PostgresCluster | null = null;
afterAll(async () => {
  await pg?.stop();
});
story('PostgreSQL', async () => {
  pg = await startPostgres();
  return pg === null ? null : pg.createDatabase();
});
