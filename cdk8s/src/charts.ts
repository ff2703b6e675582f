import { App } from 'cdk8s';
import { HelmChart } from './helm/helm-chart';
import { OPERATOR_CHART_NAME, RallyForgeOperatorChart } from './operator/operator-chart';
import { PLATFORM_CHART_NAME, RallyForgePlatformChart } from './platform/platform-chart';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

/** Version of both charts and default tag of the images they deploy. */
export const CHART_VERSION = version;

/** The charts `npm run synth` writes into charts/, by directory name. */
export const CHARTS: Record<string, (app: App) => HelmChart> = {
  [PLATFORM_CHART_NAME]: (app) => new RallyForgePlatformChart(app, PLATFORM_CHART_NAME, { appVersion: CHART_VERSION }),
  [OPERATOR_CHART_NAME]: (app) => new RallyForgeOperatorChart(app, OPERATOR_CHART_NAME, { appVersion: CHART_VERSION }),
};
