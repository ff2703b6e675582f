import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { STATE_DIR } from '../infra';
import { upsertOrganisation } from '../platform/seed';
import { startIsolatedStack } from '../platform/stack';
import { fastifyBaseline, HttpResult, measure } from './http';

export interface ClaimsBench {
  claims: HttpResult;
  baseline: HttpResult;
}

/**
 * GET /api/v1/claims (authenticated, 20 claims) through the nginx gateway, against a bare Fastify hello-world
 * measured in the same run with the same load generator settings.
 */
export async function benchClaims(log: (m: string) => void, durationS: number, connections: number): Promise<ClaimsBench> {
  const run = `bench_${randomBytes(3).toString('hex')}`;
  const stack = await startIsolatedStack({
    name: run,
    ports: { auth: 4201, claims: 4202, payments: 4203, documents: 4204, realtime: 4205 },
    dir: join(STATE_DIR, run),
    nodeEnv: 'test',
    logLevel: 'warn',
    gatewayPort: 18281,
  }, log);
  const base = stack.baseUrl;
  try {
    await upsertOrganisation(stack.env.auth.AMQP_URL, 'bench', 'Bench Organisation');
    const email = `bench-${randomBytes(3).toString('hex')}@example.org`;
    const password = 'Bench-Password-9!';
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const reg = await post('/api/v1/auth/register', { organisation: 'bench', email, password });
    if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`);
    const login = (await (await post('/api/v1/auth/login', { organisation: 'bench', email, password })).json()) as { accessToken: string };
    const token = login.accessToken;
    for (let i = 0; i < 20; i++) {
      const res = await post('/api/v1/claims', { title: `Bench claim ${i + 1}`, type: 'disability_compensation' }, token);
      if (res.status !== 201) throw new Error(`create claim: ${res.status} ${await res.text()}`);
    }
    const list = (await (await fetch(`${base}/api/v1/claims`, { headers: { authorization: `Bearer ${token}` } })).json()) as unknown;
    const count = Array.isArray(list) ? list.length : ((list as { items?: unknown[]; data?: unknown[] }).items ?? (list as { data?: unknown[] }).data ?? []).length;
    if (count !== 20) throw new Error(`expected 20 claims in the list, got ${count}`);

    log(`baseline: bare Fastify hello-world, ${durationS} s × ${connections} connections`);
    const baseline = await fastifyBaseline(18299, durationS, connections);
    log(`claims: GET /api/v1/claims through the gateway, ${durationS} s × ${connections} connections`);
    const headers = { authorization: `Bearer ${token}` };
    await measure(`${base}/api/v1/claims`, headers, 3, connections); // warm-up (JIT, pools, caches)
    const claims = await measure(`${base}/api/v1/claims`, headers, durationS, connections);
    return { claims, baseline };
  } finally {
    await stack.stop();
  }
}
