import {
  Inject,
  Injectable,
  Module,
  Optional,
  type DynamicModule,
  type FactoryProvider,
  type INestApplicationContext,
  type ModuleMetadata,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { BusClient } from '../bus-client';
import { BusConnection } from '../bus-connection';
import { BusServer, type BusServerOptions } from '../bus-server';
import { OutboxPublisher } from '../outbox/outbox-publisher';
import { OutboxRelay, type OutboxRelayOptions } from '../outbox/outbox-relay';

/** Injection token of the resolved `BusModuleOptions`. */
export const BUS_MODULE_OPTIONS = Symbol('BUS_MODULE_OPTIONS');

export interface BusModuleOptions {
  /** The service (`claims`). */
  readonly service: string;
  /** `AMQP_URL`. */
  readonly url: string;
  /** The service's DataSource: enables the `OutboxRelay` (and `createBusServer` passes it on for the inbox). */
  readonly dataSource?: DataSource;
  /** Relay tuning, or `false` to run no relay in this process. */
  readonly relay?: Partial<Omit<OutboxRelayOptions, 'dataSource' | 'connection'>> | false;
  /** Request timeout of the `BusClient`. */
  readonly requestTimeoutMs?: number;
  /** @default prom-client's global registry */
  readonly registry?: Registry;
}

export interface BusModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Receives the `inject` tokens' values in order (method syntax, so typed parameters are accepted). */
  useFactory(...args: never[]): BusModuleOptions | Promise<BusModuleOptions>;
  readonly inject?: FactoryProvider['inject'];
}

/** Starts the relay when the app is up, stops relay, client and connection last (after the microservice drained). */
@Injectable()
class BusLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly connection: BusConnection,
    private readonly client: BusClient,
    @Optional() @Inject(OutboxRelay) private readonly relay: OutboxRelay | null,
  ) {}

  onApplicationBootstrap(): void {
    this.connection.start();
    this.relay?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
    await this.client.close();
    await this.connection.close();
  }
}

/**
 * Wires one `BusConnection` per process with a `BusClient`, an `OutboxPublisher` and (given a DataSource) an
 * `OutboxRelay`, all injectable by class. The consuming side is a microservice strategy created from the same
 * connection: `app.connectMicroservice({ strategy: createBusServer(app) })`.
 */
@Module({})
export class BusModule {
  static forRoot(options: BusModuleOptions): DynamicModule {
    return BusModule.build({ provide: BUS_MODULE_OPTIONS, useValue: options }, []);
  }

  static forRootAsync(options: BusModuleAsyncOptions): DynamicModule {
    return BusModule.build({ provide: BUS_MODULE_OPTIONS, useFactory: options.useFactory as FactoryProvider['useFactory'], inject: options.inject ?? [] }, options.imports ?? []);
  }

  private static build(optionsProvider: Provider, imports: ModuleMetadata['imports']): DynamicModule {
    return {
      module: BusModule,
      global: true,
      imports,
      providers: [
        optionsProvider,
        {
          provide: BusConnection,
          useFactory: (o: BusModuleOptions) => new BusConnection({ url: o.url, name: o.service, registry: o.registry }),
          inject: [BUS_MODULE_OPTIONS],
        },
        {
          provide: BusClient,
          useFactory: (o: BusModuleOptions, connection: BusConnection) =>
            new BusClient({ connection, service: o.service, registry: o.registry, requestTimeoutMs: o.requestTimeoutMs }),
          inject: [BUS_MODULE_OPTIONS, BusConnection],
        },
        { provide: OutboxPublisher, useValue: new OutboxPublisher() },
        {
          provide: OutboxRelay,
          useFactory: (o: BusModuleOptions, connection: BusConnection) =>
            o.dataSource && o.relay !== false
              ? new OutboxRelay({ ...(o.relay || {}), dataSource: o.dataSource, connection, service: o.service, registry: o.registry })
              : null,
          inject: [BUS_MODULE_OPTIONS, BusConnection],
        },
        BusLifecycle,
      ],
      exports: [BUS_MODULE_OPTIONS, BusConnection, BusClient, OutboxPublisher, OutboxRelay],
    };
  }
}

/**
 * The `BusServer` of an app that imports `BusModule`: same connection, service and DataSource.
 * `app.connectMicroservice({ strategy: createBusServer(app, { prefetch: 64 }) })`.
 */
export function createBusServer(app: INestApplicationContext, overrides: Partial<Omit<BusServerOptions, 'connection' | 'url'>> = {}): BusServer {
  const options = app.get<BusModuleOptions>(BUS_MODULE_OPTIONS);
  return new BusServer({
    service: options.service,
    dataSource: options.dataSource,
    registry: options.registry,
    ...overrides,
    connection: app.get(BusConnection),
  });
}
