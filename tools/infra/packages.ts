import { existsSync, readdirSync } from 'node:fs';
import { commandExists, isRoot, run } from './process';

/** The Debian packages the local platform runs on, and a binary that proves each is installed. */
const PACKAGES: Record<string, () => boolean> = {
  postgresql: () => postgresBinDir() !== undefined,
  'redis-server': () => commandExists('redis-server'),
  'rabbitmq-server': () => existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server'),
  prometheus: () => commandExists('prometheus'),
  nginx: () => commandExists('nginx') || existsSync('/usr/sbin/nginx'),
};

/** The newest installed PostgreSQL server's bin directory (Debian keeps them under /usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base)
    .filter((v) => existsSync(`${base}/${v}/bin/pg_ctl`))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length ? `${base}/${majors[0]}/bin` : undefined;
}

/** True when a Docker engine answers (the `docker` client alone is not enough). */
export function dockerEngineReachable(): boolean {
  if (process.env.RF_INFRA === 'native') return false;
  if (!commandExists('docker')) return false;
  return run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000 }).status === 0;
}

/**
 * Installs whatever is missing from Debian's packages. Needs root (or passwordless sudo); the error says so.
 * The service units Debian's packages would start are not used: we run every server from .rallyforge/.
 */
export function ensureDebianPackages(log: (msg: string) => void, wanted = Object.keys(PACKAGES)): void {
  const missing = wanted.filter((name) => !PACKAGES[name]());
  if (missing.length === 0) return;
  const sudo = isRoot() ? [] : ['sudo', '-n'];
  if (!isRoot() && run('sudo', ['-n', 'true']).status !== 0) {
    throw new Error(
      `Missing packages: ${missing.join(', ')}. Install them with: sudo apt-get install -y ${missing.join(' ')} ` +
        `(this script needs root or passwordless sudo to do it for you).`,
    );
  }
  log(`installing ${missing.join(', ')} from Debian's packages (once per machine)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const exec = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, ...args];
    const result = run(cmd, rest, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.status !== 0) throw new Error(`${args.join(' ')} failed:\n${result.stderr.slice(-2000)}`);
  };
  exec(['apt-get', 'update', '-qq']);
  exec(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
  const still = missing.filter((name) => !PACKAGES[name]());
  if (still.length) throw new Error(`apt-get reported success but ${still.join(', ')} is still missing.`);
}
