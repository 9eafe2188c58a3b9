import { EvqError, describeValue, errors } from '../errors.ts';
import { type Grant, type Principal, type QueueAction, queueActions } from './principal.ts';

/** Characters allowed in a queue pattern: a queue name's characters plus the `*` wildcard. */
const queuePattern = /^[A-Za-z0-9._*-]{1,249}$/;
/** Variables of a key template, such as `${sub}` or `${tenant_id}`. */
const templateVariable = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Checks grants given by a caller or found in a token claim and returns them in stored form.
 * Throws BAD_USER_INPUT naming `field` and the first invalid value.
 */
export function parseGrants(value: unknown, field: string): Grant[] {
  if (!Array.isArray(value)) throw errors.invalidInput(field, value, 'a list of grants { queue, actions, key }');
  return value.map((entry, index) => parseGrant(entry, `${field}[${index}]`));
}

function parseGrant(value: unknown, field: string): Grant {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw errors.invalidInput(field, value, 'an object { queue, actions, key }');
  }
  const { queue, actions, key } = value as Record<string, unknown>;
  if (typeof queue !== 'string' || !queuePattern.test(queue)) {
    throw errors.invalidInput(`${field}.queue`, queue, "a queue name or pattern of A-Z, a-z, 0-9, '.', '_', '-' and '*'");
  }
  if (!Array.isArray(actions) || actions.length === 0 || !actions.every((action) => queueActions.includes(action))) {
    throw errors.invalidInput(`${field}.actions`, actions, `a non-empty list of ${queueActions.join(', ')}`);
  }
  if (key != null && (typeof key !== 'string' || key.length === 0 || key.length > 512)) {
    throw errors.invalidInput(`${field}.key`, key, 'a key template of 1 to 512 characters, such as "user-${sub}"');
  }
  return { queue, actions: [...new Set(actions as QueueAction[])], key: (key as string | null | undefined) ?? null };
}

/** Returns true when `name` matches `pattern`, where `*` matches any run of characters. */
export function matchesPattern(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  return globToRegExp(pattern.split('*')).test(name);
}

function globToRegExp(literals: string[]): RegExp {
  return new RegExp(`^${literals.map(escapeRegExp).join('.*')}$`, 's');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Fills in a key template's variables from the principal (`sub` and the token's string or number
 * claims) and returns a matcher for message keys, or null when a variable has no value, so the
 * grant allows no key. Filled-in values match literally: a `*` in a claim is not a wildcard.
 */
export function keyMatcher(template: string, principal: Principal): ((key: string) => boolean) | null {
  const literals: string[] = [];
  let missing = false;
  for (const piece of template.split('*')) {
    literals.push(
      piece.replace(templateVariable, (_match, name: string) => {
        const value = name === 'sub' ? principal.subject : principal.claims[name];
        if (typeof value === 'string' || typeof value === 'number') return String(value);
        missing = true;
        return '';
      }),
    );
  }
  if (missing) return null;
  if (literals.length === 1) return (key) => key === literals[0];
  const pattern = globToRegExp(literals);
  return (key) => pattern.test(key);
}

/**
 * An operation in the form the permission check takes: the action, the queue and, for publishes and
 * stream reads, the message keys involved. `keys: null` marks an operation that can touch messages
 * of any key (receive, ack, deliveries). A grant with a key template does not allow those.
 */
export interface AccessRequest {
  action: QueueAction;
  queue: string;
  keys: (string | null)[] | null;
}

/**
 * Throws FORBIDDEN unless the principal's grants allow the request. The admin is allowed
 * everything; for other principals each key must be allowed by one grant for the action and queue.
 */
export function authorize(principal: Principal, request: AccessRequest): void {
  if (principal.kind === 'admin') return;
  const { action, queue, keys } = request;
  const grants = principal.grants.filter((grant) => grant.actions.includes(action) && matchesPattern(grant.queue, queue));
  if (grants.length === 0) {
    throw forbidden(principal, request, `no grant allows ${action} on queue ${describeValue(queue)}`);
  }
  if (grants.some((grant) => grant.key === null)) return;

  const templates = grants.map((grant) => grant.key!);
  const allowed = templates.map((template) => describeValue(template)).join(', ');
  if (keys === null) {
    throw forbidden(
      principal,
      request,
      `the grants for ${action} on queue ${describeValue(queue)} limit message keys to ${allowed}, ` +
        'so operations that can return messages of any key, such as receive, ack and deliveries, are not allowed',
    );
  }
  const matchers = templates.map((template) => keyMatcher(template, principal)).filter((matcher) => matcher !== null);
  for (const key of keys) {
    if (key === null) {
      const remedy = action === 'PUBLISH' ? 'publish a message with a key' : 'pass a key argument';
      throw forbidden(principal, request, `no message key was given, but your grants for ${action} on queue ${describeValue(queue)} allow only keys matching ${allowed}; ${remedy}`, key);
    }
    if (!matchers.some((matches) => matches(key))) {
      throw forbidden(principal, request, `key ${describeValue(key)} does not match the key template ${allowed} of your grants`, key);
    }
  }
}

/** Returns true when any grant of the principal names the queue, whatever the action. */
export function canSee(principal: Principal, queue: string): boolean {
  return principal.kind === 'admin' || principal.grants.some((grant) => matchesPattern(grant.queue, queue));
}

function forbidden(principal: Principal, request: AccessRequest, reason: string, key?: string | null): EvqError {
  return new EvqError('FORBIDDEN', `Forbidden: ${reason}.`, {
    principal: principal.id,
    action: request.action,
    queue: request.queue,
    ...(key === undefined ? {} : { key }),
  });
}
