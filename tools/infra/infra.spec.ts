import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import Redis from 'ioredis';
import * as amqp from 'amqplib';
import { freshDatabase, freshVhost } from '../test/infra';
import { STATE_DIR } from './config';
import { renderNginxConfig, SECURITY_HEADERS } from '../platform/gateway';
import { formatLogLine } from '../platform/stack';

describe('infrastructure bootstrap (real servers)', () => {
  it('gives each test its own database, owned by its own role, that other roles cannot open', async () => {
    const a = await freshDatabase('infra-a');
    const b = await freshDatabase('infra-b');
    try {
      const client = new Client({ connectionString: a.url });
      await client.connect();
      const { rows } = await client.query<{ db: string; usr: string }>('select current_database() as db, current_user as usr');
      await client.end();
      expect(rows[0]).toEqual({ db: a.name, usr: a.name });
      // Role a must not reach database b (CONNECT was revoked from PUBLIC).
      const crossUrl = new URL(a.url);
      crossUrl.pathname = `/${b.name}`;
      const cross = new Client({ connectionString: crossUrl.toString() });
      await expect(cross.connect()).rejects.toThrow(/permission denied/);
      await cross.end().catch(() => undefined);
    } finally {
      await a.drop();
      await b.drop();
    }
  });

  it('gives each test its own vhost with a working quorum queue', async () => {
    const vhost = await freshVhost('infra');
    const conn = await amqp.connect(vhost.url);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('probe', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      ch.sendToQueue('probe', Buffer.from('hello'));
      await ch.waitForConfirms();
      const msg = await ch.get('probe', { noAck: true });
      expect(msg && msg.content.toString()).toBe('hello');
    } finally {
      await conn.close();
      await vhost.drop();
    }
  });

  it('runs Redis with a password and refuses anonymous clients', async () => {
    const url = process.env.RF_TEST_REDIS_URL as string;
    const ok = new Redis(url);
    expect(await ok.ping()).toBe('PONG');
    ok.disconnect();
    const anonymous = new Redis({ host: new URL(url).hostname, port: Number(new URL(url).port), lazyConnect: true, maxRetriesPerRequest: 0 });
    anonymous.on('error', () => undefined);
    await anonymous.connect().catch(() => undefined);
    await expect(anonymous.ping()).rejects.toThrow(/NOAUTH|WRONGPASS|Connection is closed/);
    anonymous.disconnect();
  });

  it('keeps generated credentials readable by the owner only', () => {
    if (process.env.RF_TEST_RABBIT_CONTAINER) return; // containers: no local secrets file
    const mode = statSync(join(STATE_DIR, 'secrets.json')).mode & 0o777;
    expect(mode).toBe(0o600);
  });
});

describe('gateway config', () => {
  const conf = renderNginxConfig({
    dir: '/tmp/gw', logDir: '/tmp/gw/logs', port: 18080,
    upstreams: { auth: 1, claims: 2, payments: 3, documents: 4, realtime: 5 },
  });

  it('routes every service under /api/v1 and upgrades /ws to realtime', () => {
    for (const s of ['auth', 'claims', 'payments', 'documents', 'realtime']) {
      expect(conf).toContain(`location /api/v1/${s}/ {\n      proxy_pass http://rf_${s};`);
    }
    expect(conf).toMatch(/location = \/ws \{\s+proxy_pass http:\/\/rf_realtime;\s+proxy_set_header Upgrade \$http_upgrade;/);
  });

  it('sends every security header from the seed checklist on every response', () => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      const variable = `$rf_${name.toLowerCase().replace(/-/g, '_')}`;
      expect(conf).toContain(`add_header ${name} ${variable} always;`);
      expect(conf).toContain(`${variable} { '' "${value}"; default ''; }`);
    }
    expect(SECURITY_HEADERS['Strict-Transport-Security']).toContain('max-age=31536000');
  });
});

describe('log formatting', () => {
  it('turns a pino line into a prefixed, readable line and passes other text through', () => {
    const line = JSON.stringify({ level: 30, time: 1, pid: 1, hostname: 'h', msg: 'listening', port: 3001 });
    expect(formatLogLine('auth', line)).toBe('[auth     ] INFO  listening {"port":3001}');
    expect(formatLogLine('auth', 'plain text')).toBe('[auth     ] plain text');
  });
});
