import { Module } from '@nestjs/common';
import { BusModule } from '@rallyforge/bus';
import { SERVICE_CONFIG, ServiceKitModule } from '@rallyforge/service-kit';
import type { RealtimeConfig } from './config';
import { RealtimeEventsController } from './controllers/realtime-events.controller';
import { WebSocketGateway } from './gateways/websocket.gateway';
import { RealtimeMetrics } from './metrics/realtime.metrics';
import { SERVICE_NAME } from './realtime.constants';
import { ConnectionLeaseRepository } from './repositories/connection-lease.repository';
import { UserChannelRepository } from './repositories/user-channel.repository';
import { EventFanoutService } from './services/event-fanout.service';
import { LiveConnectionService } from './services/live-connection.service';

/** No database: Redis (pub/sub, connection leases) and the bus (consumer without inbox, no outbox). */
@Module({
  imports: [
    ServiceKitModule.forRoot({ name: SERVICE_NAME, redis: true }),
    BusModule.forRootAsync({
      inject: [SERVICE_CONFIG],
      useFactory: (config: RealtimeConfig) => ({ service: SERVICE_NAME, url: config.AMQP_URL }),
    }),
  ],
  controllers: [RealtimeEventsController],
  providers: [
    RealtimeMetrics,
    UserChannelRepository,
    ConnectionLeaseRepository,
    EventFanoutService,
    LiveConnectionService,
    WebSocketGateway,
  ],
})
export class AppModule {}
