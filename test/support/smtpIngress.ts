import pino from 'pino';
import type { Config } from '../../src/config';
import type { AppDeps } from '../../src/http/app';
import { createInboxService } from '../../src/requests/inboxes';
import { createMailIngress } from '../../src/requests/ingress';
import { SmtpIngress, startSmtpIngress } from '../../src/requests/smtpServer';

/** The inbound SMTP server, wired as `src/smtp.ts` wires it, in this process on a free port. */
export function startTestSmtpIngress(deps: Pick<AppDeps, 'db' | 'storage' | 'config'>, config: Config = deps.config): Promise<SmtpIngress> {
  const logger = pino({ level: 'silent' });
  return startSmtpIngress({ config, inboxes: createInboxService(deps.db, config), ingress: createMailIngress({ db: deps.db, storage: deps.storage, config, logger }), logger }, 0);
}
