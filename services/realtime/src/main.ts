import { loadRealtimeConfig } from './config';
import { startRealtimeService } from './realtime.app';

void startRealtimeService(loadRealtimeConfig());
