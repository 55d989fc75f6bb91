/**
 * The Chromium the browser tests drive (Debian's, which setup installs), and how they start it:
 * headless, and quiet, since this machine has no network and Chromium otherwise keeps trying one.
 */

import { existsSync } from 'node:fs';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** The flags every browser test launches it with. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why Chromium cannot run here, or null when it can. */
export const CHROMIUM_MISSING: string | null = existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing: npm run setup installs Debian's chromium`;
