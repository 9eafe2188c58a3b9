import type { QueueAction } from '../auth/principal.ts';
import type { AuthRequirement, QueueActionScope } from './builder.ts';
import type { Context } from './context.ts';

/** The queue and message keys of a queue operation, read from a field's arguments. */
export type QueueTarget = Omit<QueueActionScope, 'action'>;

const scopeOf = { ADMIN: 'admin', SERVICE: 'service', SERVICE_API_KEY: 'serviceApiKey', AUTHENTICATED: 'authenticated' } as const;

/**
 * Field options that allow a field only to the given callers: the scope-auth check and the
 * `@auth(requires: …)` directive that prints it, declared together so they cannot drift apart.
 */
export function requires(...requirements: AuthRequirement[]) {
  return {
    authScopes: { $any: Object.fromEntries(requirements.map((requirement) => [scopeOf[requirement], true])) },
    directives: { auth: { requires: requirements } },
  };
}

/**
 * Field options that allow a field to callers with a grant for `action` on the queue and message
 * keys that `target` reads from the field's arguments. The admin passes every check. The field
 * prints as `@queueAction(action: …)`.
 */
export function queueAction<Args>(action: QueueAction, target: (args: Args, ctx: Context) => QueueTarget) {
  return {
    authScopes: (_parent: unknown, args: Args, ctx: Context) => ({ queueAction: { action, ...target(args, ctx) } }),
    directives: { queueAction: { action } },
  };
}
