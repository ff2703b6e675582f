/** The e-mails auth sends; `template` of the `auth.email.requested` contract. */
export type MailTemplate = 'email_verification' | 'password_reset' | 'invitation';

export interface MailParameters {
  template: MailTemplate;
  token: string;
  expiresAt: Date;
  organisationName: string;
  /** Where the links point (`MAIL_LINK_BASE_URL`), without a trailing slash. */
  linkBaseUrl: string;
  /** Invitations: the role offered. */
  role?: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
}

/** The page of the web app each link opens; the token is also in the text, with the API call that takes it. */
export const MAIL_LINK_PATHS: Record<MailTemplate, string> = {
  email_verification: '/verify-email',
  password_reset: '/reset-password',
  invitation: '/accept-invitation',
};

const ROLE_NAMES: Record<string, string> = {
  veteran: 'a veteran',
  representative: 'a representative',
  org_admin: 'an administrator',
};

/**
 * Plain-text e-mails (no HTML: nothing to escape, nothing for a mail client to render from an organisation's name).
 * Header values lose line breaks so an organisation name can never add a header.
 */
export function renderMail(p: MailParameters): RenderedMail {
  const organisation = oneLine(p.organisationName);
  const link = `${p.linkBaseUrl.replace(/\/+$/, '')}${MAIL_LINK_PATHS[p.template]}?token=${encodeURIComponent(p.token)}`;
  const minutes = Math.max(1, Math.round((p.expiresAt.getTime() - Date.now()) / 60_000));
  const validity = describeDuration(minutes);
  const footer = ['', `The link works once and expires at ${p.expiresAt.toISOString()} (in about ${validity}).`, '', '— RallyForge'];
  switch (p.template) {
    case 'email_verification':
      return {
        subject: `Confirm your e-mail address for ${organisation}`,
        text: [
          'Hello,',
          '',
          `please confirm that this address belongs to your RallyForge account at ${organisation}:`,
          '',
          link,
          '',
          'Or send this token to POST /api/v1/auth/verify-email:',
          `Token: ${p.token}`,
          '',
          'If you did not create this account, ignore this e-mail.',
          ...footer,
        ].join('\n'),
      };
    case 'password_reset':
      return {
        subject: `Reset your RallyForge password for ${organisation}`,
        text: [
          'Hello,',
          '',
          `someone asked to reset the password of your RallyForge account at ${organisation}. To choose a new one, open:`,
          '',
          link,
          '',
          'Or send this token with your new password to POST /api/v1/auth/password-reset:',
          `Token: ${p.token}`,
          '',
          'Resetting the password signs you out on every device. If you did not ask for this, ignore this e-mail:',
          'your password stays as it is.',
          ...footer,
        ].join('\n'),
      };
    case 'invitation':
      return {
        subject: `You are invited to join ${organisation} on RallyForge`,
        text: [
          'Hello,',
          '',
          `you are invited to join ${organisation} on RallyForge as ${ROLE_NAMES[p.role ?? ''] ?? 'a member'}. To accept, open:`,
          '',
          link,
          '',
          'Or send this token with a password and your name to POST /api/v1/auth/invitations/accept:',
          `Token: ${p.token}`,
          '',
          'If you do not know this organisation, ignore this e-mail.',
          ...footer,
        ].join('\n'),
      };
  }
}

/** 60 minutes, 7 days: the unit a reader expects. */
export function describeDuration(minutes: number): string {
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`;
}

function oneLine(value: string): string {
  return value.replace(/[\r\n\t]+/g, ' ').trim().slice(0, 200);
}
