import { ApiObject } from 'cdk8s';
import { Patch } from '../helm/patch';

/** seccomp profile of every pod and container (the `restricted` Pod Security Standard). */
const RUNTIME_DEFAULT = { type: 'RuntimeDefault' };

/**
 * What cdk8s-plus leaves out of the `restricted` Pod Security Standard: a RuntimeDefault seccomp
 * profile and dropping every capability (cdk8s-plus already sets non-root, read-only root
 * filesystem and no privilege escalation). Also removes cdk8s-plus' construct-address pod label,
 * which changes whenever the construct tree is refactored and would then roll every pod.
 *
 * @param podSpecPath JSON pointer of the pod spec, for example `/spec/template/spec`
 * @param containers number of containers in the pod
 */
export function completeRestrictedSecurity(obj: ApiObject, podSpecPath: string, containers = 1): void {
  Patch.add(obj, `${podSpecPath}/securityContext/seccompProfile`, RUNTIME_DEFAULT);
  for (let i = 0; i < containers; i++) {
    Patch.add(obj, `${podSpecPath}/containers/${i}/securityContext/seccompProfile`, RUNTIME_DEFAULT);
    Patch.add(obj, `${podSpecPath}/containers/${i}/securityContext/capabilities`, { drop: ['ALL'] });
  }
  const templateLabels = podSpecPath.replace(/\/spec$/, '/metadata/labels');
  Patch.remove(obj, `${templateLabels}/cdk8s.io~1metadata.addr`);
}
