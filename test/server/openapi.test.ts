import { describe, expect, it } from 'vitest';
import { testApp } from './fakes.js';

/** Every route the design lists, with what its schema must describe. */
const ROUTES: { method: string; path: string; body?: boolean; params?: string[]; query?: string[] }[] = [
  { method: 'post', path: '/api/v1/challenges' },
  { method: 'post', path: '/api/v1/enrollments', body: true },
  { method: 'post', path: '/api/v1/tpm/activations', body: true },
  { method: 'post', path: '/api/v1/tpm/activations/{id}/complete', body: true, params: ['id'] },
  { method: 'get', path: '/api/v1/ca/certificates' },
  { method: 'get', path: '/api/v1/crl' },
  { method: 'post', path: '/api/v1/admin/enrollment-codes', body: true },
  { method: 'get', path: '/api/v1/admin/enrollment-codes', query: ['customer', 'limit', 'cursor'] },
  {
    method: 'get',
    path: '/api/v1/admin/enrollments',
    query: ['customer', 'status', 'format', 'code', 'since', 'until', 'limit', 'cursor'],
  },
  { method: 'get', path: '/api/v1/admin/enrollments/{id}', params: ['id'] },
  { method: 'post', path: '/api/v1/admin/certificates/{serial}/revoke', body: true, params: ['serial'] },
  { method: 'get', path: '/api/v1/admin/audit', query: ['event', 'since', 'limit', 'cursor'] },
  { method: 'get', path: '/api/v1/admin/policy' },
  { method: 'post', path: '/api/v1/admin/policy/dry-run', body: true },
  { method: 'post', path: '/api/v1/admin/reevaluate', body: true },
  { method: 'post', path: '/api/v1/admin/tokens', body: true },
  { method: 'get', path: '/healthz' },
  { method: 'get', path: '/readyz' },
  { method: 'get', path: '/metrics' },
];

describe('OpenAPI document at /docs/json', () => {
  it('is OpenAPI 3 and lists exactly the service routes, each with responses', async () => {
    const { app } = testApp();
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const listed = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`),
    );
    expect(listed.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    expect(doc.components.schemas.Problem).toBeDefined();
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it.each(ROUTES)('$method $path documents its body, parameters and responses', async (route) => {
    const { app } = testApp();
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    const op = doc.paths[route.path][route.method];
    expect(Object.keys(op.responses).length).toBeGreaterThan(0);
    const success = Object.keys(op.responses).find((s) => s.startsWith('2'));
    expect(success).toBeDefined();
    expect(op.responses[success!].content).toBeDefined();
    if (route.body) expect(op.requestBody.content['application/json'].schema.properties).toBeDefined();
    else expect(op.requestBody).toBeUndefined();
    const params = (op.parameters ?? []) as { in: string; name: string }[];
    expect(params.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(route.params ?? []);
    expect(params.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(route.query ?? []);
    if (route.path.startsWith('/api/v1/admin')) expect(op.security).toEqual([{ adminToken: [] }]);
    if (route.path === '/api/v1/challenges' || route.path === '/api/v1/enrollments')
      expect(op.security).toEqual([{ enrollmentCode: [] }]);
    if (route.path.startsWith('/api/')) {
      const errors = Object.keys(op.responses).filter((s) => /^[45]/.test(s));
      expect(errors.length).toBeGreaterThan(0);
    }
  });

  it('serves the Swagger UI at /docs from the package (no CDN)', async () => {
    const { app } = testApp();
    const res = await app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<html');
    expect(res.body).not.toMatch(/https?:\/\/(unpkg|cdn)/);
  });
});
