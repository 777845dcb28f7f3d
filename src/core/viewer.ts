/** What a caller may do: platform administrator, steward of one department, or read-only. */
export enum Role {
  /** 平台管理员: manages regions, departments and API keys; may act for any department. */
  ADMIN = 'ADMIN',
  /** 部门数据管理员: writes only their own department's data. */
  STEWARD = 'STEWARD',
  /** Reads only. */
  VIEWER = 'VIEWER',
}

/** How the caller proved who they are; recorded with every audit entry. */
export enum ActorKind {
  /** A person signed in at the unified identity platform (统一身份认证), by JWT. */
  USER = 'USER',
  /** A machine client with an API key issued by an admin. */
  API_KEY = 'API_KEY',
  /** The bootstrap admin key (MULU_ADMIN_TOKEN) or the server itself (the demo loader). */
  SYSTEM = 'SYSTEM',
}

/** The authenticated caller of one request. */
export interface Viewer {
  kind: ActorKind;
  /** User id (`sub`), API key id, or "bootstrap"/"demo-loader". */
  id: string;
  name: string;
  role: Role;
  /** Credit code of the department a steward (or API key) acts for; null for admins and viewers. */
  departmentCreditCode: string | null;
}

/** The server acting on its own behalf (demo loader, maintenance scripts). */
export const SYSTEM_VIEWER: Viewer = Object.freeze({ kind: ActorKind.SYSTEM, id: 'system', name: 'Mulu', role: Role.ADMIN, departmentCreditCode: null });
