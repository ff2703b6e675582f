import { Injectable } from '@nestjs/common';

export type LifecycleState = 'starting' | 'running' | 'shutting_down';

/**
 * Where the service is in its life: `starting` until bootstrapService has it listening, `running`, then
 * `shutting_down` from the first SIGTERM on, which is what makes /health/ready fail so that traffic stops
 * arriving before the server closes.
 */
@Injectable()
export class ServiceLifecycle {
  private current: LifecycleState = 'starting';

  get state(): LifecycleState {
    return this.current;
  }

  get isShuttingDown(): boolean {
    return this.current === 'shutting_down';
  }

  markStarted(): void {
    if (this.current === 'starting') {
      this.current = 'running';
    }
  }

  beginShutdown(): void {
    this.current = 'shutting_down';
  }
}
