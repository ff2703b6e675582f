import { startMailCatcher, type CaughtMail, type MailCatcher } from '@rallyforge/tools/platform/mail-catcher';
import { startAuth, type AuthEnvironment, type RunningAuth } from './auth-harness';

export type { CaughtMail, MailCatcher };

/** The single-use token an e-mail carries (the `Token:` line of every template). */
export function tokenIn(mail: CaughtMail): string {
  const match = /^Token: (\S+)$/m.exec(mail.text);
  if (!match) throw new Error(`No token in the e-mail "${mail.subject}"`);
  return match[1];
}

/** A real SMTP server on a free port, and the real auth service sending to it. */
export async function startAuthWithMail(
  env: AuthEnvironment,
  overrides: Record<string, string> = {},
): Promise<{ auth: RunningAuth; mail: MailCatcher }> {
  const mail = await startMailCatcher({ port: 0 });
  const auth = await startAuth(env, { SMTP_URL: mail.url, MAIL_LINK_BASE_URL: 'https://app.example.org', ...overrides });
  return { auth, mail };
}

/** Mails sent to `address` so far. */
export function mailsTo(mail: MailCatcher, address: string): CaughtMail[] {
  return mail.messages.filter((message) => message.to.includes(address));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
