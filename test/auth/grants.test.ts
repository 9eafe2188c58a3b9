import { describe, expect, it } from 'vitest';
import { type AccessRequest, authorize, canSee, keyMatcher, matchesPattern, parseGrants } from '../../src/auth/grants.ts';
import { adminPrincipal, type Grant, type Principal } from '../../src/auth/principal.ts';
import { EvqError } from '../../src/errors.ts';

/** Returns a user principal with the given grants and token claims. */
function user(grants: Grant[], claims: Record<string, unknown> = {}, subject = 'alice'): Principal {
  return {
    kind: 'user',
    credentialType: 'userToken',
    id: `user:${subject}`,
    subject,
    grants,
    roles: [],
    claims: { sub: subject, ...claims },
    expiresAt: null,
    credential: null,
  };
}

/** Runs `action` and returns the EvqError it throws; fails the test when it throws nothing else. */
function thrown(action: () => unknown): EvqError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(EvqError);
    return error as EvqError;
  }
  throw new Error('expected an EvqError, but nothing was thrown');
}

describe('matchesPattern', () => {
  it.each([
    ['orders.*', 'orders.eu', true],
    ['orders.*', 'orders.', true],
    ['orders.*', 'orders', false],
    ['orders.*', 'payments.eu', false],
    ['orders.*', 'xorders.eu', false],
    ['*', 'anything-at-all', true],
    ['*', '', true],
    ['*.jobs', 'team-a.jobs', true],
    ['*.jobs', 'team-a.jobs.old', false],
    ['team-*-jobs', 'team-a-b-jobs', true],
    ['orders', 'orders', true],
    ['orders', 'orders2', false],
    ['orders', 'Orders', false],
  ])('%s against %s is %s', (pattern, name, expected) => {
    expect(matchesPattern(pattern, name)).toBe(expected);
  });

  it('treats a dot in the pattern as literal', () => {
    expect(matchesPattern('orders.*', 'ordersXeu')).toBe(false);
    expect(matchesPattern('a.b*', 'aXb1')).toBe(false);
    expect(matchesPattern('a.b*', 'a.b1')).toBe(true);
  });

  it('treats regex characters as literal', () => {
    expect(matchesPattern('a+b*', 'a+b-1')).toBe(true);
    expect(matchesPattern('a+b*', 'aab-1')).toBe(false);
    expect(matchesPattern('(x|y)*', '(x|y)1')).toBe(true);
    expect(matchesPattern('(x|y)*', 'x1')).toBe(false);
    expect(matchesPattern('[ab]*', 'a')).toBe(false);
    expect(matchesPattern('^q$*', '^q$')).toBe(true);
    expect(matchesPattern('q?*', 'q')).toBe(false);
  });

  it('matches a name with a line break only through *', () => {
    expect(matchesPattern('a*z', 'a\nz')).toBe(true);
    expect(matchesPattern('a.z', 'a\nz')).toBe(false);
  });
});

describe('keyMatcher', () => {
  it('fills ${sub} from the subject', () => {
    const matches = keyMatcher('user-${sub}', user([]))!;
    expect(matches('user-alice')).toBe(true);
    expect(matches('user-bob')).toBe(false);
    expect(matches('user-alice-2')).toBe(false);
  });

  it('fills ${sub} from the subject, not the sub claim', () => {
    const principal = { ...user([], {}, 'acct-1'), claims: { sub: 'someone-else' } };
    const matches = keyMatcher('user-${sub}', principal)!;
    expect(matches('user-acct-1')).toBe(true);
    expect(matches('user-someone-else')).toBe(false);
  });

  it('fills a string or number claim variable', () => {
    const matches = keyMatcher('${tenant}/${sub}', user([], { tenant: 'acme' }))!;
    expect(matches('acme/alice')).toBe(true);
    expect(matches('other/alice')).toBe(false);

    const numeric = keyMatcher('org-${org_id}', user([], { org_id: 42 }))!;
    expect(numeric('org-42')).toBe(true);
  });

  it.each([
    ['absent', {}],
    ['null', { tenant: null }],
    ['an object', { tenant: { id: 'acme' } }],
    ['a list', { tenant: ['acme'] }],
    ['a boolean', { tenant: true }],
  ])('allows nothing when the variable is %s', (_case, claims) => {
    expect(keyMatcher('${tenant}-${sub}', user([], claims))).toBeNull();
  });

  it('allows nothing for a variable inherited from Object', () => {
    expect(keyMatcher('${constructor}', user([]))).toBeNull();
    expect(keyMatcher('${toString}', user([]))).toBeNull();
  });

  it('treats a * inside a claim value as literal', () => {
    const matches = keyMatcher('tenant-${tenant}', user([], { tenant: '*' }))!;
    expect(matches('tenant-*')).toBe(true);
    expect(matches('tenant-acme')).toBe(false);

    const withWildcard = keyMatcher('${tenant}.*', user([], { tenant: 'a*' }))!;
    expect(withWildcard('a*.x')).toBe(true);
    expect(withWildcard('abc.x')).toBe(false);
  });

  it('treats regex characters in a claim value as literal', () => {
    const matches = keyMatcher('${tenant}-*', user([], { tenant: 'a.c' }))!;
    expect(matches('a.c-1')).toBe(true);
    expect(matches('abc-1')).toBe(false);
  });

  it('matches any run of characters at a template *', () => {
    const matches = keyMatcher('user-${sub}/*', user([]))!;
    expect(matches('user-alice/')).toBe(true);
    expect(matches('user-alice/orders/7')).toBe(true);
    expect(matches('user-alice')).toBe(false);
    expect(matches('user-bob/orders/7')).toBe(false);
  });

  it('matches a template without variables exactly', () => {
    const matches = keyMatcher('fixed', user([]))!;
    expect(matches('fixed')).toBe(true);
    expect(matches('fixed2')).toBe(false);
  });
});

describe('authorize', () => {
  const orders: AccessRequest = { action: 'PUBLISH', queue: 'orders.eu', keys: [null] };

  it('allows the admin everything', () => {
    expect(() => authorize(adminPrincipal, { action: 'MANAGE', queue: 'anything', keys: null })).not.toThrow();
    expect(() => authorize(adminPrincipal, { action: 'CONSUME', queue: 'x', keys: ['k', null] })).not.toThrow();
  });

  it('allows an action that a pattern grant names', () => {
    const principal = user([{ queue: 'orders.*', actions: ['PUBLISH'], key: null }]);
    expect(() => authorize(principal, orders)).not.toThrow();
    expect(() => authorize(principal, { ...orders, keys: null })).not.toThrow();
  });

  it('rejects another action with FORBIDDEN', () => {
    const principal = user([{ queue: 'orders.*', actions: ['PUBLISH'], key: null }]);
    const error = thrown(() => authorize(principal, { action: 'CONSUME', queue: 'orders.eu', keys: null }));

    expect(error.code).toBe('FORBIDDEN');
    expect(error.status).toBe(403);
    expect(error.message).toBe('Forbidden: no grant allows CONSUME on queue "orders.eu".');
    expect(error.details).toEqual({ principal: 'user:alice', action: 'CONSUME', queue: 'orders.eu' });
  });

  it('rejects a queue outside the pattern with FORBIDDEN', () => {
    const principal = user([{ queue: 'orders.*', actions: ['PUBLISH'], key: null }]);
    const error = thrown(() => authorize(principal, { ...orders, queue: 'payments' }));

    expect(error.code).toBe('FORBIDDEN');
    expect(error.details).toEqual({ principal: 'user:alice', action: 'PUBLISH', queue: 'payments' });
  });

  it('rejects a principal without grants', () => {
    const error = thrown(() => authorize(user([]), orders));
    expect(error.code).toBe('FORBIDDEN');
  });

  describe('with a key template', () => {
    const notifications = user([{ queue: 'notifications', actions: ['CONSUME'], key: 'user-${sub}' }]);

    it('allows a matching key', () => {
      expect(() => authorize(notifications, { action: 'CONSUME', queue: 'notifications', keys: ['user-alice'] })).not.toThrow();
      expect(() => authorize(notifications, { action: 'CONSUME', queue: 'notifications', keys: ['user-alice', 'user-alice'] })).not.toThrow();
    });

    it('rejects keys: null, an operation on any key', () => {
      const error = thrown(() => authorize(notifications, { action: 'CONSUME', queue: 'notifications', keys: null }));

      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toBe(
        'Forbidden: the grants for CONSUME on queue "notifications" limit message keys to "user-${sub}", ' +
          'so operations that can return messages of any key, such as receive, ack and deliveries, are not allowed.',
      );
      expect(error.details).toEqual({ principal: 'user:alice', action: 'CONSUME', queue: 'notifications' });
    });

    it('rejects a read without a key', () => {
      const error = thrown(() => authorize(notifications, { action: 'CONSUME', queue: 'notifications', keys: [null] }));

      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toBe(
        'Forbidden: no message key was given, but your grants for CONSUME on queue "notifications" allow only keys matching "user-${sub}"; ' +
          'pass a key argument.',
      );
      expect(error.details).toEqual({ principal: 'user:alice', action: 'CONSUME', queue: 'notifications', key: null });
    });

    it('rejects a batch with one foreign key, naming it', () => {
      const error = thrown(() =>
        authorize(notifications, { action: 'CONSUME', queue: 'notifications', keys: ['user-alice', 'user-bob'] }),
      );

      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toBe('Forbidden: key "user-bob" does not match the key template "user-${sub}" of your grants.');
      expect(error.details).toEqual({ principal: 'user:alice', action: 'CONSUME', queue: 'notifications', key: 'user-bob' });
    });

    it('rejects every key when a template variable is missing', () => {
      const principal = user([{ queue: 'q', actions: ['PUBLISH'], key: '${tenant}-*' }]);
      const error = thrown(() => authorize(principal, { action: 'PUBLISH', queue: 'q', keys: ['-x'] }));

      expect(error.code).toBe('FORBIDDEN');
      expect(error.details).toEqual({ principal: 'user:alice', action: 'PUBLISH', queue: 'q', key: '-x' });
    });

    it('allows a key that any of two templates matches', () => {
      const principal = user(
        [
          { queue: 'q', actions: ['PUBLISH'], key: 'user-${sub}' },
          { queue: 'q', actions: ['PUBLISH'], key: 'tenant-${tenant}' },
        ],
        { tenant: 'acme' },
      );
      expect(() => authorize(principal, { action: 'PUBLISH', queue: 'q', keys: ['user-alice', 'tenant-acme'] })).not.toThrow();

      const error = thrown(() => authorize(principal, { action: 'PUBLISH', queue: 'q', keys: ['tenant-other'] }));
      expect(error.message).toBe('Forbidden: key "tenant-other" does not match the key template "user-${sub}", "tenant-${tenant}" of your grants.');
    });

    it('allows any key when another grant has no template', () => {
      const principal = user([
        { queue: 'notifications', actions: ['CONSUME'], key: 'user-${sub}' },
        { queue: 'notif*', actions: ['CONSUME'], key: null },
      ]);
      expect(() => authorize(principal, { action: 'CONSUME', queue: 'notifications', keys: null })).not.toThrow();
      expect(() => authorize(principal, { action: 'CONSUME', queue: 'notifications', keys: ['user-bob', null] })).not.toThrow();
    });

    it('ignores a template-free grant for another action', () => {
      const principal = user([
        { queue: 'notifications', actions: ['CONSUME'], key: 'user-${sub}' },
        { queue: 'notifications', actions: ['PUBLISH'], key: null },
      ]);
      const error = thrown(() => authorize(principal, { action: 'CONSUME', queue: 'notifications', keys: null }));
      expect(error.code).toBe('FORBIDDEN');
    });
  });
});

describe('canSee', () => {
  it('sees queues that a grant names, whatever the action', () => {
    const principal = user([{ queue: 'team-a.*', actions: ['CONSUME'], key: 'user-${sub}' }]);
    expect(canSee(principal, 'team-a.jobs')).toBe(true);
    expect(canSee(principal, 'team-b.jobs')).toBe(false);
    expect(canSee(adminPrincipal, 'team-b.jobs')).toBe(true);
  });
});

describe('parseGrants', () => {
  it('returns grants with duplicate actions removed and a null key', () => {
    const grants = parseGrants(
      [
        { queue: 'orders.*', actions: ['PUBLISH', 'PUBLISH', 'CONSUME'] },
        { queue: 'notifications', actions: ['CONSUME'], key: 'user-${sub}' },
        { queue: '*', actions: ['MANAGE'], key: null },
      ],
      'grants',
    );
    expect(grants).toEqual([
      { queue: 'orders.*', actions: ['PUBLISH', 'CONSUME'], key: null },
      { queue: 'notifications', actions: ['CONSUME'], key: 'user-${sub}' },
      { queue: '*', actions: ['MANAGE'], key: null },
    ]);
  });

  it('drops fields other than queue, actions and key', () => {
    expect(parseGrants([{ queue: 'q', actions: ['PUBLISH'], admin: true }], 'grants')).toEqual([
      { queue: 'q', actions: ['PUBLISH'], key: null },
    ]);
  });

  it('accepts an empty list', () => {
    expect(parseGrants([], 'grants')).toEqual([]);
  });

  const valid = { queue: 'q', actions: ['PUBLISH'] };

  it.each([
    ['not a list', { queue: 'q' }, 'grants'],
    ['an entry that is not an object', [valid, 'q'], 'grants[1]'],
    ['an entry that is a list', [[]], 'grants[0]'],
    ['an entry that is null', [null], 'grants[0]'],
    ['a missing queue', [{ actions: ['PUBLISH'] }], 'grants[0].queue'],
    ['an empty queue', [{ queue: '', actions: ['PUBLISH'] }], 'grants[0].queue'],
    ['a queue with a space', [{ queue: 'a b', actions: ['PUBLISH'] }], 'grants[0].queue'],
    ['a queue with a regex character', [{ queue: 'a+', actions: ['PUBLISH'] }], 'grants[0].queue'],
    ['a queue of 250 characters', [{ queue: 'q'.repeat(250), actions: ['PUBLISH'] }], 'grants[0].queue'],
    ['empty actions', [valid, { queue: 'q', actions: [] }], 'grants[1].actions'],
    ['an unknown action', [valid, { queue: 'q', actions: ['PUBLISH', 'DELETE'] }], 'grants[1].actions'],
    ['a lowercase action', [valid, { queue: 'q', actions: ['publish'] }], 'grants[1].actions'],
    ['actions that are not a list', [valid, { queue: 'q', actions: 'PUBLISH' }], 'grants[1].actions'],
    ['an empty key', [{ ...valid, key: '' }], 'grants[0].key'],
    ['a key that is not a string', [{ ...valid, key: 7 }], 'grants[0].key'],
    ['a key of 513 characters', [{ ...valid, key: 'k'.repeat(513) }], 'grants[0].key'],
  ])('rejects %s with BAD_USER_INPUT', (_case, value, field) => {
    const error = thrown(() => parseGrants(value, 'grants'));

    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.status).toBe(400);
    expect(error.details.field).toBe(field);
    expect(error.message).toMatch(new RegExp(`^Invalid ${field.replace(/[[\].]/g, '\\$&')}: `));
  });

  it('names the invalid actions value and what it expects', () => {
    const error = thrown(() => parseGrants([valid, { queue: 'q', actions: [] }], 'grants'));

    expect(error.message).toBe('Invalid grants[1].actions: []; expected a non-empty list of PUBLISH, CONSUME, MANAGE.');
    expect(error.details).toEqual({ field: 'grants[1].actions', value: [] });
  });

  it('uses the given field name in the path', () => {
    const error = thrown(() => parseGrants([{ queue: 'q', actions: ['NOPE'] }], 'evq.grants'));
    expect(error.details.field).toBe('evq.grants[0].actions');
  });

  it('accepts key templates of 1 and 512 characters', () => {
    expect(parseGrants([{ ...valid, key: 'k' }], 'grants')[0]!.key).toBe('k');
    expect(parseGrants([{ ...valid, key: 'k'.repeat(512) }], 'grants')[0]!.key).toBe('k'.repeat(512));
  });
});
