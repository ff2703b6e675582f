import { App, ApiObject, Testing } from 'cdk8s';
import { buildDefaults, buildSchema } from './chart-writer';
import { HelmChart } from './helm-chart';
import { Helm, RENDER_IF_ANNOTATION, wholeToken } from './helm-token';
import { HelmValue, HelmValues, chooseString, defaultOf, renderOf, stringOf } from './helm-values';
import { Patch } from './patch';

function chart(): HelmChart {
  return new HelmChart(Testing.app(), 'test', { chartName: 'demo', description: 'Demo.', appVersion: '1.0.0' });
}

describe('HelmValues', () => {
  it('returns values whose default, expression and token match the declaration', () => {
    const v = chart().values;
    const replicas = v.integer('services.auth.replicas', 3, { description: 'Replicas.' });
    const host = v.string('ingress.host', 'example.com', { description: 'Host.' });
    const labels = v.object('labels', { a: 'b' }, { description: 'Labels.' });
    expect(defaultOf(replicas)).toBe(3);
    expect(replicas.expr).toBe('.Values.services.auth.replicas');
    expect(wholeToken(replicas.toToken())).toEqual({ kind: 'expr', expr: '.Values.services.auth.replicas', type: 'raw' });
    expect(wholeToken(`${host}`)).toEqual({ kind: 'expr', expr: '.Values.ingress.host', type: 'string' });
    expect(wholeToken(renderOf(labels) as string)).toEqual({ kind: 'yaml', expr: '.Values.labels', omitEmpty: false });
    expect(renderOf(7)).toBe(7);
    expect(stringOf(replicas)).toBe(Helm.str('.Values.services.auth.replicas'));
    expect(stringOf(false)).toBe('false');
  });

  it('refuses invalid, duplicate, undocumented and overlapping paths with a fix in the message', () => {
    const v = chart().values;
    v.integer('a.b', 1, { description: 'B.' });
    expect(() => v.integer('a.b', 2, { description: 'Again.' })).toThrow(/declared twice/);
    expect(() => v.integer('a.b.c', 2, { description: 'C.' })).toThrow(/nested under the leaf value "a.b"/);
    expect(() => v.object('a', {}, { description: 'A.' })).toThrow(/would replace the values already declared under it/);
    expect(() => v.string('Bad-Path', '', { description: 'X.' })).toThrow(/dot-separated camelCase/);
    expect(() => v.string('x', '', { description: ' ' })).toThrow(/needs a description/);
    expect(() => v.integer('y', 1.5, { description: 'Y.' })).toThrow(/not an integer/);
  });

  it('is found from any construct inside a HelmChart and refused outside one', () => {
    const c = chart();
    const obj = new ApiObject(c, 'obj', { apiVersion: 'v1', kind: 'ConfigMap' });
    expect(HelmValues.of(obj)).toBe(c.values);
    const plain = new ApiObject(Testing.chart(), 'plain', { apiVersion: 'v1', kind: 'ConfigMap' });
    expect(() => HelmValues.of(plain)).toThrow(/only be declared inside a HelmChart/);
  });

  it('decides literal flags now and Helm flags at render time', () => {
    const flag = new HelmValue('development.enabled', false, 'boolean');
    expect(chooseString(true, 'a', 'b')).toBe('a');
    expect(wholeToken(chooseString(flag, 'dev', `${Helm.str('.Values.secret')}`))).toEqual({
      kind: 'expr',
      type: 'string',
      expr: 'ternary ("dev") (.Values.secret) (.Values.development.enabled)',
    });
  });
});

describe('values.yaml and values.schema.json', () => {
  function model() {
    const c = chart();
    c.values.section('services', 'Services.');
    c.values.integer('services.replicas', 3, { description: 'Replicas.', schema: { minimum: 0 } });
    c.values.object('podAnnotations', {}, { description: 'Annotations.', schema: { additionalProperties: { type: 'string' } } });
    return c.toModel();
  }

  it('nests the defaults in declaration order, with the standard name overrides first', () => {
    expect(buildDefaults(model().values)).toEqual({ nameOverride: '', fullnameOverride: '', services: { replicas: 3 }, podAnnotations: {} });
  });

  it('closes every mapping and requires every key, so unknown keys and null overrides are refused', () => {
    const schema = buildSchema(model()) as { additionalProperties: boolean; required: string[]; properties: Record<string, Record<string, unknown>> };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['nameOverride', 'fullnameOverride', 'services', 'podAnnotations']);
    expect(schema.properties.services).toMatchObject({
      type: 'object',
      description: 'Services.',
      additionalProperties: false,
      required: ['replicas'],
      properties: { replicas: { type: 'integer', minimum: 0, default: 3, description: 'Replicas.' } },
    });
    expect(schema.properties.podAnnotations).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    expect(schema.properties.global).toMatchObject({ type: 'object' });
  });
});

describe('HelmChart', () => {
  it('labels every object with the standard Helm labels', () => {
    const c = chart();
    const obj = new ApiObject(c, 'deploy', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: { spec: {} } } });
    Patch.add(obj, '/spec/template/spec/nodeSelector', Helm.yaml('.Values.nodeSelector'));
    Patch.add(obj, '/spec/replicas', 2);
    const [manifest] = Testing.synth(c);
    expect(manifest.metadata.labels).toEqual({
      'helm.sh/chart': Helm.include('demo.chart'),
      'app.kubernetes.io/managed-by': Helm.str('.Release.Service'),
      'app.kubernetes.io/instance': Helm.str('.Release.Name'),
      'app.kubernetes.io/version': Helm.str('.Chart.AppVersion'),
      'app.kubernetes.io/part-of': 'rallyforge',
    });
    expect(manifest.spec).toEqual({ replicas: 2, template: { spec: { nodeSelector: Helm.yaml('.Values.nodeSelector') } } });
    expect(Object.keys(manifest).slice(0, 3)).toEqual(['apiVersion', 'kind', 'metadata']);
  });

  it('collects helpers, notes and validations into the model', () => {
    const c = chart();
    c.addValidation({ condition: '.Values.bad', message: 'Bad.' });
    c.setNotes('Hello.');
    const m = c.toModel();
    expect(m.helpers).toContain('{{- define "demo.fullname" -}}');
    expect(m.validations).toEqual([{ condition: '.Values.bad', message: 'Bad.' }]);
    expect(m.notes).toBe('Hello.');
    expect(m.kubeVersion).toBe('>=1.29.0-0');
  });

  it('keeps render-if conditions when patches replace other fields', () => {
    const c = new HelmChart(new App(), 'c', { chartName: 'demo', description: 'Demo.', appVersion: '1.0.0' });
    const obj = new ApiObject(c, 'o', { apiVersion: 'v1', kind: 'ConfigMap' });
    obj.metadata.addAnnotation(RENDER_IF_ANNOTATION, '.Values.enabled');
    Patch.add(obj, '/data', Helm.yaml('.Values.data'));
    const [manifest] = c.toJson() as Array<{ metadata: { annotations: Record<string, string> }; data: string }>;
    expect(manifest.metadata.annotations).toEqual({ [RENDER_IF_ANNOTATION]: '.Values.enabled' });
    expect(manifest.data).toBe(Helm.yaml('.Values.data'));
  });

});
