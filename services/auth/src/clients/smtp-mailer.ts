import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectConfig } from '@rallyforge/service-kit';
import { createTransport, type Transporter } from 'nodemailer';
import type { AuthConfig } from '../config';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

/**
 * The SMTP connection (nodemailer) to `SMTP_URL`. Only this class talks SMTP; it never logs what it sends. Timeouts
 * are bounded (`SMTP_TIMEOUT_MS`) because the mail consumer sends inside its inbox transaction: a mail server that
 * hangs must fail the attempt (the bus retries it later), not hold a database connection.
 */
@Injectable()
export class SmtpMailer implements OnApplicationShutdown {
  private readonly transport: Transporter | undefined;
  private readonly from: string;

  constructor(@InjectConfig() config: AuthConfig) {
    this.from = config.MAIL_FROM;
    this.transport = config.SMTP_URL
      ? createTransport({
          url: config.SMTP_URL,
          connectionTimeout: config.SMTP_TIMEOUT_MS,
          greetingTimeout: config.SMTP_TIMEOUT_MS,
          socketTimeout: config.SMTP_TIMEOUT_MS,
          logger: false,
          debug: false,
        })
      : undefined;
  }

  /** False when no SMTP_URL is configured (allowed in development and test only; the config refuses it otherwise). */
  get configured(): boolean {
    return this.transport !== undefined;
  }

  /** Hands the message to the SMTP server; resolves once the server accepted it. */
  async send(mail: OutgoingMail): Promise<void> {
    if (!this.transport) throw new Error('SMTP_URL is not configured');
    await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text });
  }

  onApplicationShutdown(): void {
    this.transport?.close();
  }
}
