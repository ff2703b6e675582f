import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import { BusContext } from '../bus-context';

/**
 * Keeps a bus handler's original error. Nest's default RPC filter replaces any non-`RpcException` with
 * "Internal server error"; with this filter the parked message's `x-rf-error` and the error reply of a request
 * carry the real message. Register it on the microservice only (it must not handle HTTP exceptions):
 *
 * ```ts
 * const microservice = app.connectMicroservice({ strategy: server });
 * microservice.useGlobalFilters(new BusExceptionFilter());
 * ```
 */
@Catch()
export class BusExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    if (host.getType() === 'rpc') {
      const context: unknown = host.switchToRpc().getContext();
      if (context instanceof BusContext) context.handlerError = exception;
    }
    return throwError(() => exception);
  }
}
