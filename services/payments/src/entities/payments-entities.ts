import { PaymentEntity } from './payment.entity';

export const PAYMENTS_ENTITIES = [PaymentEntity];
