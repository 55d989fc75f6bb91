/** ferronet's version, written into saved models; a test keeps it equal to package.json's. */
export const VERSION = '0.1.0';
