import { IdentityError, createIdentityService } from '../identity/service';
import { PartnerError } from '../partners/service';
import { TargetInputError } from '../targets/service';
import { TargetError } from '../targets/targetRows';
import { keyCreate, keyRevoke, orgCreate, orgFlagsSet, userAdd } from './identityCommands';
import { CliDeps, CliFailure, CliOutput, UsageError } from './io';
import { listingReview } from './listingCommands';
import { partnerCreate, partnerDisable, partnerList, partnerRedeliver, partnerRotateSecret, partnerSetWebhookUrl } from './partnerCommands';
import { targetCreate, targetDisable, targetList } from './targetCommands';

export type { CliDeps } from './io';

export const USAGE = `immoflow — operator CLI

  immoflow org create --name N --plan free|pro|enterprise [--flag F]... --owner-email E
                      [--developer-email E] [--listing-cap N]
  immoflow org flags set ORG FLAG=on|off
  immoflow user add --org ORG --email E --role owner|admin|member|viewer
  immoflow key create --org ORG --kind secret|publishable --mode live|test --scope S... [--name N]
  immoflow key revoke KEY_ID
  immoflow listing review LISTING_ID --approve|--reject --reason R
  immoflow partner create --name N --webhook-url URL --developer-email E
  immoflow partner list
  immoflow partner rotate-secret PARTNER_ID
  immoflow partner set-webhook-url PARTNER_ID --webhook-url URL
  immoflow partner disable PARTNER_ID
  immoflow partner redeliver CONNECTION_ID
  immoflow target create --name N --base-url URL --client-id ID --client-secret S --webhook-secret WHSEC
  immoflow target list
  immoflow target disable TARGET_ID

Global: --json prints machine-readable JSON; --help after any command shows its usage.
Exit codes: 0 ok, 1 not found or failed, 2 usage error. Configuration comes from the
environment (DATABASE_URL, …) exactly as for the API and the worker.`;

type Command = (args: string[], deps: CliDeps, out: CliOutput) => Promise<void>;


const COMMANDS: Record<string, Command> = {
  'org create': (args, { db }, out) => orgCreate(args, createIdentityService(db), out),
  'org flags set': (args, { db }, out) => orgFlagsSet(args, createIdentityService(db), out),
  'user add': (args, { db }, out) => userAdd(args, createIdentityService(db), out),
  'key create': (args, { db }, out) => keyCreate(args, createIdentityService(db), out),
  'key revoke': (args, { db }, out) => keyRevoke(args, createIdentityService(db), out),
  'listing review': (args, deps, out) => listingReview(args, deps, out),
  'partner create': partnerCreate,
  'partner list': partnerList,
  'partner rotate-secret': partnerRotateSecret,
  'partner set-webhook-url': partnerSetWebhookUrl,
  'partner disable': partnerDisable,
  'partner redeliver': partnerRedeliver,
  'target create': targetCreate,
  'target list': targetList,
  'target disable': targetDisable,
};

/** Every command's name, e.g. `key create`. */
export const COMMAND_NAMES = Object.keys(COMMANDS);

/** Each command's lines of USAGE (a continuation line stays with its command). */
function usageOf(name: string): string[] {
  const lines: string[] = [];
  let inCommand = false;
  for (const line of USAGE.split('\n')) {
    if (line.startsWith('  immoflow ')) inCommand = line === `  immoflow ${name}` || line.startsWith(`  immoflow ${name} `);
    else if (!line.startsWith('    ')) inCommand = false;
    if (inCommand) lines.push(line);
  }
  return lines;
}

/** The commands whose name starts with these words: `key` names `key create` and `key revoke`. */
function commandsUnder(words: string[]): string[] {
  return Object.keys(COMMANDS).filter((name) => words.length > 0 && words.every((word, index) => name.split(' ')[index] === word));
}

const HELP = new Set(['--help', '-h']);
const FOOTER = 'Exit codes: 0 ok, 1 not found or failed, 2 usage error. --json prints machine-readable JSON.';

/** Runs one CLI invocation; returns the exit code (0 ok, 1 not found or failure, 2 usage). */
export async function runCli(argv: string[], deps: CliDeps, out: CliOutput): Promise<number> {
  const json = argv.includes('--json');
  const args = argv.filter((arg) => arg !== '--json');
  const output: CliOutput = { ...out, json };
  if (args.length === 0 || HELP.has(args[0]) || args[0] === 'help') {
    out.write(USAGE);
    return args.length === 0 ? 2 : 0;
  }
  const name = Object.keys(COMMANDS)
    .sort((a, b) => b.split(' ').length - a.split(' ').length)
    .find((candidate) => candidate.split(' ').every((word, index) => args[index] === word));
  const firstOption = args.findIndex((arg) => arg.startsWith('-'));
  const words = firstOption === -1 ? args : args.slice(0, firstOption);
  if (args.some((arg) => HELP.has(arg))) {
    // `immoflow key create --help` or `immoflow key --help`: that command's usage, nothing runs.
    const matching = name ? [name] : commandsUnder(words);
    if (matching.length === 0) {
      out.error(`unknown command: ${words.join(' ')}\n\n${USAGE}`);
      return 2;
    }
    out.write(['usage:', ...matching.flatMap(usageOf), '', FOOTER].join('\n'));
    return 0;
  }
  if (!name) {
    const group = commandsUnder(words.slice(0, 1));
    out.error(group.length ? `${words.join(' ')}: which command?\n\nusage:\n${group.flatMap(usageOf).join('\n')}` : `unknown command: ${args.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  try {
    await COMMANDS[name](args.slice(name.split(' ').length), deps, output);
    return 0;
  } catch (error) {
    const message = (error as Error).message;
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (json) out.error(JSON.stringify({ error: { message } }));
    else out.error(`error: ${message}${usage ? `\n\nusage:\n${usageOf(name).join('\n')}` : ''}`);
    if (usage) return 2;
    if (error instanceof CliFailure || error instanceof IdentityError || error instanceof PartnerError || error instanceof TargetInputError || error instanceof TargetError) return 1;
    throw error;
  }
}
