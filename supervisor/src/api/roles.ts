/**
 * The roles and their order, with no imports: the server's guards and the web UI
 * (which bundles this file) decide "may this user?" by the same rule.
 */
export const ROLES = ['operator', 'technician', 'admin'] as const;
export type Role = (typeof ROLES)[number];
const RANK: Record<Role, number> = { operator: 0, technician: 1, admin: 2 };
export const hasRole = (have: Role, need: Role) => RANK[have] >= RANK[need];
