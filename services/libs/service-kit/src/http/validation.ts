import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { validationFailed } from '../errors/app-error';

/** The longest validation message sent back; a huge body with many bad fields must not echo back a novel. */
const MAX_VALIDATION_MESSAGE_LENGTH = 1000;

/**
 * The global DTO pipe: unknown fields are rejected (not silently dropped), payloads become DTO instances, and
 * every failure is a 400 VALIDATION_FAILED whose message lists the problems with their property paths.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationFailed(formatValidationErrors(errors)),
  });
}

/** `"title must be a string; address.zip must be a postal code; property foo should not exist"` */
export function formatValidationErrors(errors: readonly ValidationError[]): string {
  const messages = flatten(errors, '');
  const message = messages.length > 0 ? messages.join('; ') : 'Request is invalid';
  return message.length > MAX_VALIDATION_MESSAGE_LENGTH
    ? `${message.slice(0, MAX_VALIDATION_MESSAGE_LENGTH)}…`
    : message;
}

function flatten(errors: readonly ValidationError[], parentPath: string): string[] {
  const messages: string[] = [];
  for (const error of errors) {
    const path = parentPath ? `${parentPath}.${error.property}` : error.property;
    for (const constraint of Object.values(error.constraints ?? {})) {
      // class-validator phrases constraints with the bare property name; nested ones need the full path.
      messages.push(parentPath && constraint.startsWith(error.property) ? `${parentPath}.${constraint}` : constraint);
    }
    if (error.children && error.children.length > 0) {
      messages.push(...flatten(error.children, path));
    }
  }
  return messages;
}
