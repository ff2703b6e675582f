import * as fs from 'node:fs';
import * as path from 'node:path';

export const PACKAGE_DIR = path.resolve(__dirname, '..', '..');
export const REPO_ROOT = path.resolve(PACKAGE_DIR, '..');
export const CHARTS_DIR = path.join(REPO_ROOT, 'charts');
export const CHART_NAMES = ['rallyforge', 'rallyforge-operator'] as const;
export const SERVICE_MONITOR_CRD = path.join(PACKAGE_DIR, 'test', 'fixtures', 'monitoring.coreos.com_servicemonitors.yaml');

export function chartDir(chart: string): string {
  return path.join(CHARTS_DIR, chart);
}

/** The chart's ci/*-values.yaml files (chart-testing's layout), as absolute paths. */
export function ciValuesFiles(chart: string): string[] {
  const dir = path.join(chartDir(chart), 'ci');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Every file below `dir`, relative, sorted. */
export function listFiles(dir: string, base = dir): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? listFiles(path.join(dir, entry.name), base) : [path.relative(base, path.join(dir, entry.name))]))
    .sort();
}
