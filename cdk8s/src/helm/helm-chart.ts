import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { Helm } from './helm-token';
import { HelmValueDeclaration, HelmValues } from './helm-values';
import { DNS_LABEL_OR_EMPTY } from './schemas';

/** Labels every object of every RallyForge chart carries. */
export const PART_OF = 'rallyforge';

/** A check Helm runs before rendering: `fail` with `message` when `condition` holds. */
export interface HelmValidation {
  /** Template pipeline that is true when the values are invalid. */
  readonly condition: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

/** Everything the post-synth step needs besides the manifests. */
export interface HelmChartModel {
  readonly name: string;
  readonly description: string;
  readonly appVersion: string;
  readonly kubeVersion: string;
  readonly keywords: string[];
  readonly values: HelmValueDeclaration[];
  readonly helpers: string;
  readonly notes: string;
  readonly validations: HelmValidation[];
}

export interface HelmChartProps {
  /** Chart name (`Chart.yaml` name, prefix of the named templates in `_helpers.tpl`). */
  readonly chartName: string;
  /** One-line description for `Chart.yaml`. */
  readonly description: string;
  /** Version of the application the chart deploys; the default image tag. */
  readonly appVersion: string;
  /**
   * Kubernetes versions the chart supports (`Chart.yaml` kubeVersion).
   * @default '>=1.29.0-0' (autoscaling/v2, CEL validation rules with quantities)
   */
  readonly kubeVersion?: string;
  /** @default [] */
  readonly keywords?: string[];
}

/**
 * A cdk8s Chart that becomes a Helm chart: its objects carry the standard Helm labels, it owns a
 * {@link HelmValues} registry, and it collects the named templates, NOTES.txt and install-time
 * validations that the post-synth step writes next to the manifests.
 */
export class HelmChart extends Chart {
  /** Finds the HelmChart that contains `scope`, if any. */
  public static tryOf(scope: Construct): HelmChart | undefined {
    const chart = Chart.of(scope);
    // Not `instanceof`: cdk8s' Chart answers it with Chart.isChart, true for every chart.
    return Object.prototype.isPrototypeOf.call(HelmChart.prototype, chart) ? (chart as HelmChart) : undefined;
  }

  public readonly chartName: string;
  public readonly values: HelmValues;
  private readonly props: HelmChartProps;
  private readonly helpers: string[] = [];
  private readonly validations: HelmValidation[] = [];
  private notes = '';

  public constructor(scope: App, id: string, props: HelmChartProps) {
    super(scope, id, {
      labels: {
        'helm.sh/chart': Helm.include(`${props.chartName}.chart`),
        'app.kubernetes.io/managed-by': Helm.str('.Release.Service'),
        'app.kubernetes.io/instance': Helm.releaseName(),
        'app.kubernetes.io/version': Helm.str('.Chart.AppVersion'),
        'app.kubernetes.io/part-of': PART_OF,
      },
    });
    this.chartName = props.chartName;
    this.props = props;
    this.values = new HelmValues(this);
    this.values.string('nameOverride', '', { description: 'Overrides the chart name in labels.', schema: DNS_LABEL_OR_EMPTY });
    this.values.string('fullnameOverride', '', {
      description: 'Overrides the release-name prefix of every object name (at most 40 characters are used).',
      schema: DNS_LABEL_OR_EMPTY,
    });
    this.addHelper(standardHelpers(props.chartName));
  }

  /** The name prefix of every object: the release name, or `fullnameOverride`. */
  public get fullname(): string {
    return Helm.include(`${this.chartName}.fullname`);
  }

  /** Adds named templates (`{{- define ... }}`) to `_helpers.tpl`. */
  public addHelper(text: string): void {
    this.helpers.push(text.trim());
  }

  /** Fails `helm install/upgrade/template` with `message` when `condition` is true. */
  public addValidation(validation: HelmValidation): void {
    this.validations.push(validation);
  }

  /** Sets the text of `templates/NOTES.txt` (a template: may use `.Values`, `.Release`, helpers). */
  public setNotes(text: string): void {
    this.notes = text;
  }

  public toModel(): HelmChartModel {
    return {
      name: this.chartName,
      description: this.props.description,
      appVersion: this.props.appVersion,
      kubeVersion: this.props.kubeVersion ?? '>=1.29.0-0',
      keywords: this.props.keywords ?? [],
      values: this.values.all,
      helpers: this.helpers.join('\n\n') + '\n',
      notes: this.notes,
      validations: [...this.validations],
    };
  }
}

/** `name`, `fullname` and `chart`: the named templates `helm create` scaffolds. */
function standardHelpers(chart: string): string {
  return `
{{/*
Chart name, overridable with nameOverride.
*/}}
{{- define "${chart}.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every object name: the release name (or fullnameOverride), so that two releases can live
side by side in one namespace. Truncated to 40 characters so that "<prefix>-documents-migrate" and
friends stay within the 63-character limit of DNS labels.
*/}}
{{- define "${chart}.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Value of the helm.sh/chart label.
*/}}
{{- define "${chart}.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}`;
}
