/** The authenticated caller, as the access token describes them. */
export interface AuthUser {
  userId: string;
  tenantId: string;
  roles: readonly string[];
  email?: string;
}
