import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PART_OF } from '../helm/helm-chart';
import { Helm, renderIf } from '../helm/helm-token';
import { Tunable, conditionOf, isHelmValue } from '../helm/helm-values';
import { Patch } from '../helm/patch';
import { RallyForgeService } from './rallyforge-service';
import { SERVICE_PORT, WEBSOCKET_PATH, apiPath } from './service-contract';

export interface IngressTlsOptions {
  /** @default false */
  readonly enabled?: Tunable<boolean>;
  /** Secret with the certificate (for example issued by cert-manager). */
  readonly secretName: string;
}

export interface PlatformIngressProps {
  /** @default 'rallyforge' */
  readonly namePrefix?: string;
  /** @default namePrefix */
  readonly instance?: string;
  /** Each gets `/api/v1/<service>`. */
  readonly services: RallyForgeService[];
  /** Serves `/ws` (long-lived WebSocket connections). */
  readonly websocket: RallyForgeService;
  /** Public host name. */
  readonly host: string;
  /**
   * IngressClass; an empty string leaves the choice to the cluster's default class.
   * @default 'nginx'
   */
  readonly className?: Tunable<string>;
  /** @default - no TLS section */
  readonly tls?: IngressTlsOptions;
  /** Annotations for both Ingresses (controller settings, cert-manager, ...). @default {} */
  readonly annotations?: Tunable<Record<string, string>>;
  /**
   * Read and send timeout of WebSocket connections (ingress-nginx closes idle proxied connections
   * after 60 s by default).
   * @default 3600
   */
  readonly websocketTimeoutSeconds?: Tunable<number>;
  /** @default true */
  readonly enabled?: Tunable<boolean>;
}

/** ingress-nginx annotations that keep WebSocket connections open. */
const WEBSOCKET_TIMEOUT_ANNOTATIONS = ['nginx.ingress.kubernetes.io/proxy-read-timeout', 'nginx.ingress.kubernetes.io/proxy-send-timeout'];

/**
 * The platform's public entry: one Ingress routing `/api/v1/<service>` to each service, and one for
 * `/ws` with WebSocket timeouts (separate, so that ordinary API requests keep short timeouts).
 */
export class PlatformIngress extends Construct {
  public readonly api: kplus.k8s.KubeIngress;
  public readonly websocket: kplus.k8s.KubeIngress;

  public constructor(scope: Construct, id: string, props: PlatformIngressProps) {
    super(scope, id);
    const namePrefix = props.namePrefix ?? 'rallyforge';
    const labels = {
      'app.kubernetes.io/name': 'ingress',
      'app.kubernetes.io/instance': props.instance ?? namePrefix,
      'app.kubernetes.io/component': 'ingress',
      'app.kubernetes.io/part-of': PART_OF,
    };
    if (props.services.length === 0) {
      throw new Error('PlatformIngress needs at least one service to route /api/v1/<service> to.');
    }
    const timeout = props.websocketTimeoutSeconds ?? 3600;
    const annotations = props.annotations ?? {};

    this.api = this.createIngress('Api', `${namePrefix}-api`, labels, props, props.services.map((s) => ({ path: apiPath(s.service), service: s })));
    this.websocket = this.createIngress('WebSocket', `${namePrefix}-websocket`, labels, props, [{ path: WEBSOCKET_PATH, service: props.websocket }]);

    // Annotations are added entry by entry: a conditional render (renderIf) is an annotation too.
    const wsAnnotations = Object.fromEntries(WEBSOCKET_TIMEOUT_ANNOTATIONS.map((a) => [a, isHelmValue(timeout) ? Helm.str(`toString ${timeout.expr}`) : String(timeout)]));
    if (isHelmValue(annotations)) {
      const quoted = WEBSOCKET_TIMEOUT_ANNOTATIONS.map((a) => JSON.stringify(a)).join(' ');
      this.api.metadata.addAnnotation(Helm.mergeKey(annotations.expr), '');
      // The WebSocket timeouts win over the same keys in the values.
      this.websocket.metadata.addAnnotation(Helm.mergeKey(`omit ${annotations.expr} ${quoted}`), '');
    } else {
      for (const [key, value] of Object.entries(annotations)) {
        this.api.metadata.addAnnotation(key, value);
        if (!WEBSOCKET_TIMEOUT_ANNOTATIONS.includes(key)) {
          this.websocket.metadata.addAnnotation(key, value);
        }
      }
    }
    for (const [key, value] of Object.entries(wsAnnotations)) {
      this.websocket.metadata.addAnnotation(key, value);
    }
  }

  private createIngress(
    id: string,
    name: string,
    labels: Record<string, string>,
    props: PlatformIngressProps,
    routes: Array<{ path: string; service: RallyForgeService }>,
  ): kplus.k8s.KubeIngress {
    const ingress = new kplus.k8s.KubeIngress(this, id, {
      metadata: { name, labels },
      spec: {
        rules: [
          {
            host: props.host,
            http: {
              paths: routes.map((route) => ({
                path: route.path,
                pathType: 'Prefix',
                backend: { service: { name: route.service.name, port: { number: SERVICE_PORT } } },
              })),
            },
          },
        ],
      },
    });
    const className = props.className ?? 'nginx';
    if (isHelmValue(className)) {
      // Empty: no ingressClassName, so the cluster's default IngressClass applies.
      Patch.add(ingress, '/spec/ingressClassName', Helm.when(className.expr, className.toToken()));
    } else if (className) {
      Patch.add(ingress, '/spec/ingressClassName', className);
    }
    if (props.tls) {
      const tls = [{ hosts: [props.host], secretName: props.tls.secretName }];
      const enabled = props.tls.enabled ?? false;
      if (isHelmValue(enabled)) {
        Patch.add(ingress, '/spec/tls', Helm.when(enabled.expr, tls));
      } else if (enabled) {
        Patch.add(ingress, '/spec/tls', tls);
      }
    }
    const condition = conditionOf(props.enabled ?? true);
    if (condition) {
      renderIf(ingress, condition);
    }
    return ingress;
  }
}
