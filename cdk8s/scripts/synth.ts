/**
 * `npm run synth`: for each chart, `cdk8s synth --format helm` (which runs src/main.ts), then the
 * post-synth step that makes it a chart a platform team expects (src/helm/chart-writer.ts).
 *
 *   tsx scripts/synth.ts [--out <dir>] [chart ...]
 *
 * --out defaults to the repository's charts/; the staleness test synthesises into a temporary
 * directory and compares.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CHARTS, CHART_VERSION } from '../src/charts';
import { writeChart } from '../src/helm/chart-writer';

const PACKAGE_DIR = path.resolve(__dirname, '..');
const DEFAULT_OUT = path.resolve(PACKAGE_DIR, '..', 'charts');

function main(argv: string[]): void {
  let out = DEFAULT_OUT;
  const charts: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') {
      out = path.resolve(argv[++i]);
    } else {
      charts.push(argv[i]);
    }
  }
  for (const chart of charts.length > 0 ? charts : Object.keys(CHARTS)) {
    if (!(chart in CHARTS)) {
      throw new Error(`Unknown chart "${chart}"; known: ${Object.keys(CHARTS).join(', ')}`);
    }
    synthChart(chart, path.join(out, chart));
  }
}

function synthChart(chart: string, chartDir: string): void {
  // The package's exports hide bin/; resolve it next to package.json.
  const cdk8s = path.join(path.dirname(require.resolve('cdk8s-cli/package.json')), 'bin', 'cdk8s');
  const tsx = require.resolve('tsx/cli');
  const app = `${JSON.stringify(process.execPath)} ${JSON.stringify(tsx)} src/main.ts ${chart}`;
  // cdk8s-cli prints an npm upgrade check (and its network errors) on stderr: show it only on failure.
  const result = spawnSync(
    process.execPath,
    [cdk8s, 'synth', '--format', 'helm', '--chart-api-version', 'v2', '--chart-version', CHART_VERSION, '--app', app, '--output', chartDir, '--no-validate'],
    { cwd: PACKAGE_DIR, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(`cdk8s synth of ${chart} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  writeChart({ chartDir, ciValuesDir: path.join(PACKAGE_DIR, 'helm', chart, 'ci') });
  process.stdout.write(`Synthesised ${path.relative(process.cwd(), chartDir) || chartDir}\n`);
}

main(process.argv.slice(2));
