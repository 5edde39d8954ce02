import type { Browser } from 'playwright-core';

/** Where the browser is looked for: `XLENS_CHROMIUM` or Debian's `/usr/bin/chromium`. */
export declare const chromiumPath: string;
/** Launch it headless, offline; a clear error when it is not installed. */
export declare function launchChromium(): Promise<Browser>;
