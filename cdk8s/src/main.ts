/**
 * The cdk8s app: `tsx src/main.ts <chart>` synthesises one chart into $CDK8S_OUTDIR (set by
 * `cdk8s synth`), plus the chart model the post-synth step needs. Run it through `npm run synth`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'cdk8s';
import { MODEL_FILE } from './helm/chart-writer';
import { HelmChart } from './helm/helm-chart';
import { CHARTS } from './charts';

const name = process.argv[2];
const build = CHARTS[name as keyof typeof CHARTS];
if (!build) {
  process.stderr.write(`Unknown chart "${name}". Usage: tsx src/main.ts <${Object.keys(CHARTS).join('|')}>\n`);
  process.exit(2);
}
const app = new App();
const chart: HelmChart = build(app);
app.synth();
fs.writeFileSync(path.join(app.outdir, MODEL_FILE), JSON.stringify(chart.toModel(), null, 2));
