/** The server's own role order (supervisor/src/api/roles.ts, bundled: it imports nothing). */
export { hasRole as roleAtLeast, ROLES } from '../../src/api/roles.js';
