import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { catchError, throwError, type Observable } from 'rxjs';
import { RateLimitedError } from '../auth.errors';

/**
 * Adds `Retry-After` (seconds) to the 429 of a RateLimitedError, then lets the error go on to the kit's exception
 * filter, which writes the usual error body on the same reply.
 */
@Injectable()
export class RetryAfterInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        if (error instanceof RateLimitedError && context.getType() === 'http') {
          void context
            .switchToHttp()
            .getResponse<{ header(name: string, value: string): unknown }>()
            .header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
        }
        return throwError(() => error);
      }),
    );
  }
}
