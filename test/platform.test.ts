/** The browser build has no file system: save and load say what to use instead. */

import { expect, it } from 'vitest';
import { browserPlatform } from '../ts/platform/browser.js';

it('refuses files in the browser build, naming the call and the alternative', async () => {
  await expect(browserPlatform.readFile('model.fnet')).rejects.toThrow(
    new TypeError("Network.load: there is no file system in ferronet's browser build; use Network.fromBytes(bytes)"),
  );
  await expect(browserPlatform.writeFileAtomically('model.fnet', new Uint8Array(4))).rejects.toThrow(
    new TypeError("save: there is no file system in ferronet's browser build; use net.toBytes()"),
  );
  await expect(browserPlatform.loadNative()).rejects.toThrow(/needs Node.js/);
});
