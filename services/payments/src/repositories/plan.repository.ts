import { Injectable } from '@nestjs/common';
import { DEFAULT_PLANS, Plan } from '../entities/plan';

/** Reads the plan catalog. The catalog is configuration today; callers do not care where it comes from. */
@Injectable()
export class PlanRepository {
  private readonly plans: readonly Plan[] = DEFAULT_PLANS;

  async list(): Promise<readonly Plan[]> {
    return this.plans;
  }

  async findById(id: string): Promise<Plan | undefined> {
    return this.plans.find((plan) => plan.id === id);
  }
}
