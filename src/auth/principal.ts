/** Who is calling. Until users, services and queue keys land, the admin is the only principal. */
export interface Principal {
  kind: 'admin';
  /** Stable id recorded as a message's `producer`. */
  id: string;
}
