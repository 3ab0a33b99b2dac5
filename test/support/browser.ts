import fs from 'node:fs';
import { Browser, chromium } from 'playwright-core';

/** Debian's chromium, which scripts/provision-tools.sh installs; a missing browser fails the run. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}: run \`make test\` (scripts/provision-tools.sh installs it) or set CHROMIUM_PATH`);
  }
  // The test runs as root in CI containers, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}
