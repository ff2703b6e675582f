import { loadPaymentsConfig } from './config';
import { startPaymentsService } from './payments.app';

void startPaymentsService(loadPaymentsConfig());
