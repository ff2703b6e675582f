import { baseConfigSchema } from '@rallyforge/service-kit';

/** The claims service reads the common variables: PostgreSQL, RabbitMQ, and Redis (the API rate limits). */
export const claimsConfigSchema = baseConfigSchema;

export type ClaimsConfig = ReturnType<typeof claimsConfigSchema.parse>;
