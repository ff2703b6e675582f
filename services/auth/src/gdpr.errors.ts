import { AppError } from '@rallyforge/service-kit';

/** Stable error codes of the GDPR endpoints (`/me/export`, `DELETE /me`). */
export const GdprErrorCode = {
  EXPORT_NOT_FOUND: 'EXPORT_NOT_FOUND',
  EXPORT_NOT_READY: 'EXPORT_NOT_READY',
  PASSWORD_CONFIRMATION_FAILED: 'PASSWORD_CONFIRMATION_FAILED',
  USER_NOT_FOUND: 'USER_NOT_FOUND',
} as const;

export const GdprErrors = {
  exportNotFound: () => new AppError(404, GdprErrorCode.EXPORT_NOT_FOUND, 'Export not found; POST /api/v1/auth/me/export starts one'),
  exportNotReady: (status: string) =>
    new AppError(
      409,
      GdprErrorCode.EXPORT_NOT_READY,
      status === 'pending'
        ? 'The export is still being assembled; poll GET /api/v1/auth/me/export/{id} until its status is "ready"'
        : `The export is ${status}; start a new one with POST /api/v1/auth/me/export`,
    ),
  passwordConfirmationFailed: () =>
    new AppError(401, GdprErrorCode.PASSWORD_CONFIRMATION_FAILED, 'The password is not correct; deleting the account needs your current password'),
  userNotFound: () => new AppError(404, GdprErrorCode.USER_NOT_FOUND, 'User not found'),
} as const;
