import packageJson from '../package.json' with { type: 'json' };

/** evq's version, from package.json. */
export const version: string = packageJson.version;
