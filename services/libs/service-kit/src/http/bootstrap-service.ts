import { Module, RequestMethod, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import type { KitConfig } from '../config/base-config.schema';
import { ServiceConfigModule } from '../config/service-config.module';
import { AppExceptionFilter } from '../errors/app-exception.filter';
import { HealthService } from '../health/health.service';
import { ServiceLifecycle } from '../health/service-lifecycle';
import { createLogger } from '../logging/logger';
import { PinoLoggerService } from '../logging/pino-logger.service';
import { MetricsService } from '../metrics/metrics.service';
import { GracefulShutdown, type BusShutdownOptions } from './graceful-shutdown';
import { InFlightTracker } from './in-flight-tracker';
import { registerJsonBodyParser } from './json-body';
import { registerRequestHooks } from './request-hooks';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id';
import { computeSecurityHeaders } from './security-headers';
import { createValidationPipe } from './validation';
import { parseTrustedProxies } from '../rate-limit/rate-limit.config';
import { registerRateLimitHook } from '../rate-limit/rate-limit.hook';
import { RateLimitService } from '../rate-limit/rate-limit.service';

export const API_PREFIX = 'api/v1';
/** Routes outside the API prefix: probes and the scrape endpoint, at fixed paths the charts rely on. */
export const UNPREFIXED_ROUTES = ['health/live', 'health/ready', 'health/startup', 'metrics'];
export const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** Browsers may cache a CORS preflight this long. */
export const CORS_MAX_AGE_SECONDS = 600;

export interface BootstrapServiceOptions<C extends KitConfig> {
  /** Service name as in the API path: /api/v1/<name>/…, and the OpenAPI document /api/v1/<name>/docs-json. */
  name: string;
  /** The service's root module; it imports ServiceKitModule.forRoot(...). */
  module: Type<unknown> | DynamicModule;
  /** The validated configuration (loadConfig); injectable as SERVICE_CONFIG. */
  config: C;
  /**
   * The bus consumer and its health. A function is called with the created app (after configureApp, before
   * listening), so the BusServer and the health check can come from the app's providers:
   * `bus: (app) => ({ server: createBusServer(app), isHealthy: () => app.get(BusConnection).isHealthy() })`.
   */
  bus?: BusShutdownOptions | ((app: NestFastifyApplication) => BusShutdownOptions | Promise<BusShutdownOptions>);
  /** Last adjustments before the app listens (extra Fastify plugins, content-type parsers). */
  configureApp?: (app: NestFastifyApplication) => void | Promise<void>;
  /**
   * Installs the SIGTERM/SIGINT handler and owns the process (a failed start exits 1). Tests that boot several
   * apps in one process turn it off.
   * @default true
   */
  handleSignals?: boolean;
  logger?: {
    /** Where log lines go; stdout when omitted. */
    destination?: DestinationStream;
    /** Keys to redact on top of REDACTED_KEYS. */
    redactKeys?: readonly string[];
  };
  /** Version shown in the OpenAPI document. @default '1.0.0' */
  apiVersion?: string;
}

@Module({})
class ServiceRootModule {}

/**
 * Creates, configures and starts a RallyForge service: pino logging with request context, /api/v1 prefix,
 * JSON bodies only (checked: see json-body.ts), validation, one error shape, body limit, CORS allow-list, security
 * headers, OpenAPI document, the bus
 * microservice, and graceful shutdown. Returns the listening app.
 */
export async function bootstrapService<C extends KitConfig>(
  options: BootstrapServiceOptions<C>,
): Promise<NestFastifyApplication> {
  const { config, name } = options;
  const ownsProcess = options.handleSignals ?? true;
  const logger = createLogger({
    service: config.SERVICE_NAME ?? name,
    level: config.LOG_LEVEL,
    destination: options.logger?.destination,
    redactKeys: options.logger?.redactKeys,
  });
  if (ownsProcess) {
    installProcessErrorHandlers(logger);
  }

  let app: NestFastifyApplication | undefined;
  let bus: BusShutdownOptions | undefined;
  try {
    app = await createApp(options, logger);
    const lifecycle = app.get(ServiceLifecycle, { strict: false });
    bus = typeof options.bus === 'function' ? await options.bus(app) : options.bus;
    if (bus?.isHealthy) {
      app.get(HealthService, { strict: false }).registerReadinessCheck('bus', bus.isHealthy);
    }
    if (bus?.server) {
      app.connectMicroservice({ strategy: bus.server }, { inheritAppConfig: false });
      await app.startAllMicroservices();
    }
    await app.listen({ port: config.PORT, host: config.HOST });
    lifecycle.markStarted();
    logger.info({ url: await app.getUrl() }, `Service ${name} started`);
  } catch (error) {
    if (!ownsProcess) {
      await app?.close().catch(() => undefined);
      throw error;
    }
    logger.fatal({ err: error }, `Service ${name} failed to start`);
    await app?.close().catch(() => undefined);
    process.exit(1);
  }

  if (ownsProcess) {
    const shutdown = new GracefulShutdown({
      app,
      tracker: trackers.get(app)!,
      logger,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      bus,
    });
    for (const signal of SHUTDOWN_SIGNALS) {
      process.on(signal, () => void shutdown.run(signal));
    }
  }
  return app;
}

const trackers = new WeakMap<NestFastifyApplication, InFlightTracker>();

/** The in-flight request tracker of an app created by bootstrapService (for a shutdown driven by hand). */
export function inFlightTrackerOf(app: NestFastifyApplication): InFlightTracker {
  const tracker = trackers.get(app);
  if (!tracker) {
    throw new Error('This app was not created by bootstrapService');
  }
  return tracker;
}

async function createApp<C extends KitConfig>(
  options: BootstrapServiceOptions<C>,
  logger: Logger,
): Promise<NestFastifyApplication> {
  const { config, name } = options;
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    genReqId: requestIdFor,
    requestIdHeader: false,
    logger: false,
    return503OnClosing: true,
    // X-Forwarded-For is believed only from these (the gateway); otherwise the client is the TCP peer.
    trustProxy: parseTrustedProxies(config.TRUSTED_PROXIES),
  });
  const root: DynamicModule = {
    module: ServiceRootModule,
    imports: [ServiceConfigModule.forRoot(config, logger), options.module],
  };
  const app = await NestFactory.create<NestFastifyApplication>(root, adapter, {
    logger: new PinoLoggerService(logger),
    abortOnError: false,
    // The kit registers the one body parser (JSON, checked): Nest's would add form-urlencoded.
    bodyParser: false,
  });
  registerJsonBodyParser(app.getHttpAdapter().getInstance() as unknown as FastifyInstance);

  const metrics = getKitProvider(app, MetricsService);
  const tracker = new InFlightTracker();
  trackers.set(app, tracker);
  // Nest pins its own fastify copy; the workspace's (for types) may differ by a minor version: same runtime object.
  registerRequestHooks(app.getHttpAdapter().getInstance() as unknown as FastifyInstance, { logger, metrics, tracker });
  const rateLimits = getOptionalKitProvider(app, RateLimitService);
  if (rateLimits) registerRateLimitHook(app.getHttpAdapter().getInstance() as unknown as FastifyInstance, rateLimits);

  const securityHeaders = computeSecurityHeaders();
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (_request, reply, done) => {
      reply.headers(securityHeaders);
      done();
    });
  if (config.CORS_ORIGINS.length > 0) {
    app.enableCors({
      origin: config.CORS_ORIGINS,
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      // idempotency-key: retried writes (payments checkout) must survive a browser's preflight.
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', REQUEST_ID_HEADER],
      exposedHeaders: [REQUEST_ID_HEADER],
      maxAge: CORS_MAX_AGE_SECONDS,
    });
  }
  app.setGlobalPrefix(API_PREFIX, {
    exclude: UNPREFIXED_ROUTES.map((path) => ({ path, method: RequestMethod.ALL })),
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AppExceptionFilter(logger));

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(`RallyForge ${name} API`)
      .setVersion(options.apiVersion ?? '1.0.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .addSecurityRequirements('bearer')
      .build(),
  );
  SwaggerModule.setup(`${API_PREFIX}/${name}/docs`, app, document, {
    ui: false,
    raw: ['json'],
    jsonDocumentUrl: `${API_PREFIX}/${name}/docs-json`,
  });

  await options.configureApp?.(app);
  return app;
}

function getKitProvider<T>(app: NestFastifyApplication, type: Type<T>): T {
  try {
    return app.get(type, { strict: false });
  } catch {
    throw new Error(`${type.name} is missing: the service module must import ServiceKitModule.forRoot({ name, ... })`);
  }
}

function getOptionalKitProvider<T>(app: NestFastifyApplication, type: Type<T>): T | undefined {
  try {
    return app.get(type, { strict: false });
  } catch {
    return undefined;
  }
}

let processHandlersInstalled = false;

/** A crash is logged as one JSON line before the process ends, not as a bare stack on stderr. */
function installProcessErrorHandlers(logger: Logger): void {
  if (processHandlersInstalled) {
    return;
  }
  processHandlersInstalled = true;
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'Uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'Unhandled promise rejection');
    process.exit(1);
  });
}
