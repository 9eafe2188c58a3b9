/** Caller of an operation. Until users, services and queue keys exist, the admin is the only principal. */
export interface Principal {
  kind: 'admin';
  /** Stable id recorded as a message's `producer`. */
  id: string;
}
