// Headless Chromium for the report and review browser tests and the screenshot script: Debian's
// chromium (`.ci/run` installs it) or XLENS_CHROMIUM, never a downloaded browser.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

/** Where the browser is looked for. */
export const chromiumPath = process.env.XLENS_CHROMIUM ?? '/usr/bin/chromium';

/** Launch it headless, offline; a clear error when it is not installed. */
export async function launchChromium() {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `headless Chromium not found at ${chromiumPath}: install it with "apt-get install -y chromium" (or set XLENS_CHROMIUM); the report tests cannot run without it`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
