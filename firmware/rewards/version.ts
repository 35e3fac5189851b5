// The visor version comparison lives in lib, where the updates can use it too.
export { compareVersions, versionAtLeast } from '../lib/skywire-version.js';
