import { parse } from 'yaml';
import { Helm, RENDER_IF_ANNOTATION } from './helm-token';
import { assertNoTokens, escapeLiteral, renderTemplate } from './template-renderer';

describe('renderTemplate', () => {
  it('writes plain YAML that parses back to the same manifest when there are no tokens', () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'plain', labels: { 'app.kubernetes.io/name': 'x' } },
      data: { port: '3000', enabled: 'true', empty: '', spaced: 'a b', url: 'http://x:1/y', list: 'a,b', octal: '0755', yes: 'yes', null: 'null' },
      binaryData: {},
      items: [1, true, null, { a: 1, b: [] }, [], 'x'],
    };
    const text = renderTemplate(manifest);
    expect(parse(text)).toEqual(manifest);
  });

  it('keeps multi-line strings as block literals, with their trailing newlines', () => {
    const manifest = { data: { script: 'line 1\n  indented\n\nlast\n', noNewline: 'a\nb', leading: '  starts with spaces\nx\n' } };
    const text = renderTemplate(manifest);
    expect(text).toContain('script: |\n    line 1\n      indented\n\n    last');
    expect(parse(text)).toEqual(manifest);
  });

  it('escapes every literal {{ so that Helm writes it out verbatim', () => {
    const alert = 'Instance {{ $labels.instance }} is down';
    const text = renderTemplate({ data: { summary: alert, multi: 'a {{ x }}\nb {{ y }}\n', '{{key}}': 'v' } });
    expect(text).toContain('summary: "Instance {{ "{{" }} $labels.instance }} is down"');
    expect(text).toContain('    a {{ "{{" }} x }}');
    expect(text).toContain('"{{ "{{" }}key}}": v');
    expect(escapeLiteral('{{ a }} {{ b }}')).toBe('{{ "{{" }} a }} {{ "{{" }} b }}');
  });

  it('renders a whole-scalar string token quoted and a raw token unquoted', () => {
    const text = renderTemplate({ spec: { host: Helm.str('.Values.ingress.host'), replicas: Helm.raw('.Values.replicas') } });
    expect(text).toContain('host: {{ .Values.ingress.host | quote }}');
    expect(text).toContain('replicas: {{ .Values.replicas }}');
  });

  it('inlines tokens inside a longer string into one double-quoted scalar', () => {
    const name = `${Helm.include('rallyforge.fullname')}-auth`;
    const text = renderTemplate({ metadata: { name }, image: `${Helm.str('.Values.image.registry')}/x:${Helm.str('.Values.image.tag')}` });
    expect(text).toContain('name: "{{ include "rallyforge.fullname" $ }}-auth"');
    expect(text).toContain('image: "{{ .Values.image.registry }}/x:{{ .Values.image.tag }}"');
  });

  it('renders YAML tokens as toYaml blocks indented under their key, optionally only when not empty', () => {
    const text = renderTemplate({
      spec: { resources: Helm.yaml('.Values.resources'), nodeSelector: Helm.yaml('.Values.nodeSelector', { omitEmpty: true }) },
    });
    expect(text).toContain('  resources:\n    {{- toYaml .Values.resources | nindent 4 }}');
    expect(text).toContain('{{- with .Values.nodeSelector }}\n  nodeSelector:\n    {{- toYaml . | nindent 4 }}\n{{- end }}');
  });

  it('splices a YAML list token into a list and merges a map token into a mapping', () => {
    const text = renderTemplate({
      env: [{ name: 'A', value: 'a' }, Helm.yaml('.Values.extraEnv')],
      metadata: { annotations: { fixed: 'yes', [Helm.mergeKey('.Values.annotations')]: '' } },
    });
    expect(text).toContain('  - name: A\n    value: a\n{{- with .Values.extraEnv }}\n  {{- toYaml . | nindent 2 }}\n{{- end }}');
    expect(text).toContain('  annotations:\n    fixed: "yes"\n{{- with .Values.annotations }}\n    {{- toYaml . | nindent 4 }}\n{{- end }}');
  });

  it('wraps conditional entries and list items in if/end, rendering nested tokens inside', () => {
    const text = renderTemplate({
      spec: {
        replicas: Helm.when('not .Values.autoscaling', Helm.raw('.Values.replicas')),
        tls: Helm.when('.Values.tls', [{ secretName: Helm.str('.Values.secret') }]),
        rules: ['a', Helm.when('.Values.b', 'b')],
      },
    });
    expect(text).toContain('{{- if not .Values.autoscaling }}\n  replicas: {{ .Values.replicas }}\n{{- end }}');
    expect(text).toContain('{{- if .Values.tls }}\n  tls:\n    - secretName: {{ .Values.secret | quote }}\n{{- end }}');
    expect(text).toContain('    - a\n{{- if .Values.b }}\n    - b\n{{- end }}');
  });

  it('starts a list item on its own line when its first entry is conditional', () => {
    const text = renderTemplate({ volumes: [{ a: Helm.when('.Values.a', {}), name: 'v' }] });
    expect(text).toContain('volumes:\n  -\n{{- if .Values.a }}\n    a: {}\n{{- end }}\n    name: v');
  });

  it('renders an object under its render-if condition and removes the annotation', () => {
    const text = renderTemplate({ kind: 'HorizontalPodAutoscaler', metadata: { name: 'x', annotations: { [RENDER_IF_ANNOTATION]: '.Values.hpa' } } });
    expect(text).toBe('{{- if .Values.hpa }}\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: x\n{{- end }}');
  });

  it('refuses tokens in keys and structural tokens inside strings, saying what to do', () => {
    expect(() => renderTemplate({ [Helm.str('.Values.k')]: 'v' })).toThrow(/not supported in mapping keys/);
    expect(() => renderTemplate({ a: `x-${Helm.yaml('.Values.y')}` })).toThrow(/cannot be embedded in a string/);
  });
});

describe('assertNoTokens', () => {
  it('accepts literal manifests and refuses tokens with a hint about crds/', () => {
    expect(() => assertNoTokens({ a: 'b' }, 'CRD x')).not.toThrow();
    expect(() => assertNoTokens({ a: Helm.str('.Values.x') }, 'CRD x')).toThrow(/CRD x contains Helm template tokens.*crds\//);
  });
});
