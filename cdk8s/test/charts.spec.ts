/**
 * The committed charts: generated from the cdk8s source (not stale), complete, and free of
 * leftovers of the synthesis (tokens, cdk8s construct labels). Needs no cluster and no helm.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { CHART_NAMES, PACKAGE_DIR, chartDir, listFiles } from './support/charts';
import { runOk } from './support/cli';

const SYNTH_TIMEOUT_MS = 180_000;

describe('charts/', () => {
  let fresh: string;

  beforeAll(async () => {
    fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'rallyforge-charts-'));
    await runOk(process.execPath, [require.resolve('tsx/cli'), 'scripts/synth.ts', '--out', fresh], { cwd: PACKAGE_DIR, timeoutMs: SYNTH_TIMEOUT_MS });
  }, SYNTH_TIMEOUT_MS);

  afterAll(() => {
    fs.rmSync(fresh, { recursive: true, force: true });
  });

  it.each(CHART_NAMES)('%s is up to date with the cdk8s source (run `npm run synth` and commit if this fails)', (chart) => {
    const committed = chartDir(chart);
    const generated = path.join(fresh, chart);
    expect(listFiles(committed)).toEqual(listFiles(generated));
    const stale = listFiles(generated).filter((file) => fs.readFileSync(path.join(committed, file), 'utf8') !== fs.readFileSync(path.join(generated, file), 'utf8'));
    expect(stale).toEqual([]);
  });

  it.each(CHART_NAMES)('%s has what a platform team expects of a chart', (chart) => {
    const files = listFiles(chartDir(chart));
    expect(files).toEqual(
      expect.arrayContaining(['Chart.yaml', 'values.yaml', 'values.schema.json', 'README.md', 'templates/NOTES.txt', 'templates/_helpers.tpl', 'templates/validate.yaml']),
    );
    expect(files.filter((f) => f.startsWith('ci/') && f.endsWith('-values.yaml')).length).toBeGreaterThanOrEqual(3);
    const meta = parse(fs.readFileSync(path.join(chartDir(chart), 'Chart.yaml'), 'utf8'));
    expect(meta).toMatchObject({ apiVersion: 'v2', name: chart, type: 'application', version: expect.any(String), appVersion: expect.any(String) });
  });

  it.each(CHART_NAMES)('%s keeps no synthesis leftovers in its files', (chart) => {
    for (const file of listFiles(chartDir(chart))) {
      const text = fs.readFileSync(path.join(chartDir(chart), file), 'utf8');
      expect({ file, tokens: text.includes('@@helm:') }).toEqual({ file, tokens: false });
      expect({ file, constructLabel: text.includes('cdk8s.io/metadata.addr') }).toEqual({ file, constructLabel: false });
      expect({ file, helperAnnotations: text.includes('helm.rallyforge.io/') }).toEqual({ file, helperAnnotations: false });
    }
  });

  it('puts the RallyForgeTenant CRD in the operator chart\'s crds/, untemplated', () => {
    const crd = parse(fs.readFileSync(path.join(chartDir('rallyforge-operator'), 'crds', 'rallyforgetenants.rallyforge.io.yaml'), 'utf8'));
    expect(crd.kind).toBe('CustomResourceDefinition');
    expect(crd.metadata.labels).toEqual({ 'app.kubernetes.io/part-of': 'rallyforge' });
  });
});
