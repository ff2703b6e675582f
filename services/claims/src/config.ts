import { baseConfigSchema } from '@rallyforge/service-kit';

/** The claims service reads the common variables except REDIS_URL: it uses PostgreSQL and RabbitMQ only. */
export const claimsConfigSchema = baseConfigSchema.omit({ REDIS_URL: true });

export type ClaimsConfig = ReturnType<typeof claimsConfigSchema.parse>;
