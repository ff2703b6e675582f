/**
 * Parked messages of a service: list them, replay them.
 *
 *   AMQP_URL=amqp://… npx tsx services/libs/bus/src/cli/parked.ts list <service> [--limit <n>] [--json]
 *   AMQP_URL=amqp://… npx tsx services/libs/bus/src/cli/parked.ts replay <service> (--id <messageId> | --all)
 *
 * (`npm run bus:parked -- list claims` runs it through tools/bin/bus-parked.)
 */
import { ParkedMessages, type ParkedMessage } from '../parked/parked-messages';

const USAGE = `Usage:
  bus-parked list <service> [--limit <n>] [--json]
  bus-parked replay <service> (--id <messageId> | --all)
Environment: AMQP_URL (e.g. amqp://user:pass@127.0.0.1:56729/%2F)`;

interface Command {
  readonly action: 'list' | 'replay';
  readonly service: string;
  readonly id?: string;
  readonly all: boolean;
  readonly limit: number;
  readonly json: boolean;
}

export function parseArgs(argv: readonly string[]): Command {
  const [action, service, ...rest] = argv;
  if ((action !== 'list' && action !== 'replay') || !service || service.startsWith('-')) throw new Error(USAGE);
  let id: string | undefined;
  let all = false;
  let limit = 100;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    if (flag === '--id') id = rest[++i];
    else if (flag === '--all') all = true;
    else if (flag === '--json') json = true;
    else if (flag === '--limit') limit = Number(rest[++i]);
    else throw new Error(`Unknown option ${flag}\n${USAGE}`);
  }
  if (action === 'replay' && !id === !all) throw new Error(`replay needs exactly one of --id <messageId> or --all\n${USAGE}`);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a positive whole number\n${USAGE}`);
  return { action, service, id, all, limit, json };
}

export function formatParked(messages: readonly ParkedMessage[]): string {
  if (messages.length === 0) return 'No parked messages.';
  return messages
    .map((m) =>
      [
        `${m.messageId}  ${m.type}  tenant=${m.tenantId}  attempts=${m.attempts}  reason=${m.reason || '?'}  parked=${m.parkedAt || '?'}`,
        `    error: ${m.error || '(none recorded)'}`,
      ].join('\n'),
    )
    .join('\n');
}

async function main(): Promise<void> {
  const command = parseArgs(process.argv.slice(2));
  const url = process.env.AMQP_URL;
  if (!url) throw new Error(`AMQP_URL is not set\n${USAGE}`);
  const parked = await ParkedMessages.connect(url);
  try {
    if (command.action === 'list') {
      const messages = await parked.list(command.service, command.limit);
      process.stdout.write(`${command.json ? JSON.stringify(messages, null, 2) : formatParked(messages)}\n`);
    } else {
      const ids = await parked.replay(command.service, command.all ? { all: true } : { messageId: command.id });
      if (!command.all && ids.length === 0) throw new Error(`No parked message with id ${command.id} in rf.${command.service}.parked`);
      process.stdout.write(`Replayed ${ids.length} message(s) to rf.${command.service}${ids.length ? `:\n${ids.join('\n')}` : ''}\n`);
    }
  } finally {
    await parked.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
