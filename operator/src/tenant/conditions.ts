import type { ConditionType, TenantCondition } from './tenant-api';

export interface ConditionInput {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  /** CamelCase, machine-readable. */
  reason: string;
  /** What happened and, on failure, what to do about it. */
  message: string;
}

/**
 * Sets a condition the way apimachinery's meta.SetStatusCondition does: lastTransitionTime moves only when the
 * status changes, so a condition that stays True keeps the time it became True.
 */
export function setCondition(conditions: TenantCondition[], input: ConditionInput, generation: number, now: Date): TenantCondition[] {
  const existing = conditions.find((c) => c.type === input.type);
  const next: TenantCondition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: truncate(input.message, 32_000),
    observedGeneration: generation,
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  return [...conditions.filter((c) => c.type !== input.type), next];
}

export function findCondition(conditions: readonly TenantCondition[] | undefined, type: ConditionType): TenantCondition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly TenantCondition[] | undefined, type: ConditionType): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
