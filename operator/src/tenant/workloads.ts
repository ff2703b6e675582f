/** The dedicated tier's workloads, rendered from the platform chart's own cdk8s constructs (@rallyforge/cdk8s). */
import { renderTenantWorkloads, TenantWorkloadsError } from '@rallyforge/cdk8s';
import type { KubeObject } from '../controller-core';
import { LayerError } from './layers';
import type { TenantSettings } from './operator-settings';
import type { WorkloadRenderer } from './tenant-reconciler';

export interface WorkloadImage {
  registry: string;
  repositoryPrefix: string;
  tag?: string;
}

export function cdk8sWorkloadRenderer(settings: TenantSettings, image: WorkloadImage, options: { serviceMonitor?: boolean } = {}): WorkloadRenderer {
  return ({ tenant, namespace, credentialsSecret, suspended }) => {
    try {
      const rendered = renderTenantWorkloads({
        tenantId: tenant.metadata.name!,
        namespace,
        credentialsSecretName: credentialsSecret,
        image: { registry: image.registry, repositoryPrefix: image.repositoryPrefix, tag: image.tag },
        suspended,
        quota: { cpu: tenant.spec.quota?.cpu, memory: tenant.spec.quota?.memory, pods: tenant.spec.quota?.pods },
        allowedNamespaces: tenant.spec.network?.allowedNamespaces ?? [],
        platformNamespace: settings.platformNamespace,
        ingressControllerNamespace: settings.ingressControllerNamespace,
        monitoringNamespace: settings.monitoringNamespace,
        serviceMonitor: options.serviceMonitor ?? false,
      });
      return rendered.objects as unknown as KubeObject[];
    } catch (error) {
      if (error instanceof TenantWorkloadsError) throw new LayerError(error.reason, error.message, { cause: error });
      throw error;
    }
  };
}
