import { Inject } from '@nestjs/common';

/** Injection token of the service's ioredis client. */
export const REDIS = Symbol.for('rallyforge.service-kit.redis');

/** `constructor(@InjectRedis() private readonly redis: Redis)` */
export const InjectRedis = (): ParameterDecorator => Inject(REDIS);

/** A command waits for at most this many reconnection attempts before failing (ioredis' default is 20). */
export const REDIS_MAX_RETRIES_PER_REQUEST = 1;
export const REDIS_CONNECT_TIMEOUT_MS = 5000;
/** Reconnect back-off: 100 ms more per attempt, capped. ioredis never gives up; readiness reports the outage. */
export const REDIS_RECONNECT_STEP_MS = 100;
export const REDIS_RECONNECT_MAX_DELAY_MS = 3000;
export const REDIS_QUIT_TIMEOUT_MS = 2000;
