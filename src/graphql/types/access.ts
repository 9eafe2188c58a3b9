import type { QueueKey, RoleGrants, ServiceAccount } from '../../auth/access-store.ts';
import { parseGrants } from '../../auth/grants.ts';
import { type Grant, type Principal, type QueueAction, queueActions } from '../../auth/principal.ts';
import { serviceTokenTtl } from '../../auth/tokens.ts';
import { EvqError, errors } from '../../errors.ts';
import { queueAction, requires } from '../auth.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';

builder.enumType('AuthRequirement', {
  description: 'Callers named by the @auth directive.',
  values: {
    ADMIN: { description: 'The admin token.' },
    SERVICE: { description: 'A service account, by its API key or a token from issueToken.' },
    SERVICE_API_KEY: { description: 'A service account by its API key, not by a token from issueToken.' },
    AUTHENTICATED: { description: 'Any valid credential.' },
  } as const,
});

export const QueueActionType = builder.enumType('QueueAction', {
  values: {
    PUBLISH: { description: 'publish and publishBatch.' },
    CONSUME: { description: 'poll, messages, receive, deliveries, ack, nack, extendVisibility and deadLetters.' },
    MANAGE: { description: 'createQueue, updateQueue, deleteQueue, purgeQueue, redrive and the queue keys.' },
  } as const,
});

const PrincipalKindType = builder.enumType('PrincipalKind', {
  values: {
    ADMIN: { value: 'admin' },
    USER: { value: 'user', description: "A user token from the application's identity provider." },
    SERVICE: { value: 'service' },
    QUEUE_KEY: { value: 'queueKey' },
  } as const,
});

const CredentialTypeType = builder.enumType('CredentialType', {
  values: {
    ADMIN_TOKEN: { value: 'adminToken' },
    API_KEY: { value: 'apiKey' },
    SERVICE_TOKEN: { value: 'serviceToken', description: 'A token from issueToken.' },
    USER_TOKEN: { value: 'userToken' },
    QUEUE_KEY: { value: 'queueKey' },
  } as const,
});

const GrantType = builder.objectRef<Grant>('Grant').implement({
  description: 'Permission to act on the queues whose names match `queue`, where `*` matches any run of characters.',
  fields: (t) => ({
    queue: t.exposeString('queue'),
    actions: t.field({ type: [QueueActionType], resolve: (grant) => grant.actions }),
    key: t.exposeString('key', {
      nullable: true,
      description: 'Template such as `user-${sub}` that the message keys of publishes and subscriptions must match.',
    }),
  }),
});

const GrantInput = builder.inputType('GrantInput', {
  fields: (t) => ({
    queue: t.string({ required: true, description: 'Queue name or pattern; `*` matches any run of characters.' }),
    actions: t.field({ type: [QueueActionType], required: true }),
    key: t.string({ description: 'Key template, such as `user-${sub}`; `${name}` is filled in from the token claims.' }),
  }),
});

const PrincipalType = builder.objectRef<Principal>('Principal').implement({
  description: 'The caller: who it is and what it may do.',
  fields: (t) => ({
    kind: t.field({ type: PrincipalKindType, resolve: (principal) => principal.kind }),
    credentialType: t.field({ type: CredentialTypeType, resolve: (principal) => principal.credentialType }),
    id: t.exposeString('id', { description: 'Recorded as `producer` on the messages it publishes.' }),
    subject: t.exposeString('subject'),
    roles: t.exposeStringList('roles'),
    grants: t.field({ type: [GrantType], description: 'Empty for the admin, which may do everything.', resolve: (principal) => principal.grants }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (principal) => (principal.expiresAt === null ? null : new Date(principal.expiresAt)),
    }),
  }),
});

const ServiceAccountType = builder.objectRef<ServiceAccount>('ServiceAccount').implement({
  fields: (t) => ({
    id: t.exposeString('id'),
    name: t.exposeString('name'),
    grants: t.field({ type: [GrantType], resolve: (account) => account.grants }),
    createdAt: t.field({ type: 'DateTime', resolve: (account) => new Date(account.createdAt) }),
  }),
});

const ServiceAccountSecretType = builder
  .objectRef<{ account: ServiceAccount; apiKey: string }>('ServiceAccountSecret')
  .implement({
    fields: (t) => ({
      id: t.string({ resolve: (result) => result.account.id }),
      apiKey: t.exposeString('apiKey', { description: 'Send as `Authorization: Bearer <apiKey>`. Shown only once.' }),
      account: t.field({ type: ServiceAccountType, resolve: (result) => result.account }),
    }),
  });

const QueueKeyType = builder.objectRef<QueueKey>('QueueKey').implement({
  description: 'A credential for one queue and a set of actions.',
  fields: (t) => ({
    id: t.exposeString('id'),
    queue: t.exposeString('queue'),
    actions: t.field({ type: [QueueActionType], resolve: (key) => key.actions }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => dateOrNull(key.expiresAt) }),
    createdAt: t.field({ type: 'DateTime', resolve: (key) => new Date(key.createdAt) }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => dateOrNull(key.revokedAt) }),
    previousSecretValidUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'End of the grace period of the secret that the last rotation replaced.',
      resolve: (key) => dateOrNull(key.secrets.find((secret) => secret.validUntil !== null)?.validUntil ?? null),
    }),
  }),
});

const QueueKeySecretType = builder.objectRef<{ key: QueueKey; secret: string }>('QueueKeySecret').implement({
  fields: (t) => ({
    id: t.string({ resolve: (result) => result.key.id }),
    secret: t.exposeString('secret', { description: 'Send as `Authorization: Bearer <secret>`. Shown only once.' }),
    queue: t.string({ resolve: (result) => result.key.queue }),
    actions: t.field({ type: [QueueActionType], resolve: (result) => result.key.actions }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (result) => dateOrNull(result.key.expiresAt) }),
  }),
});

const RoleGrantsType = builder.objectRef<RoleGrants>('RoleGrants').implement({
  fields: (t) => ({
    role: t.exposeString('role'),
    grants: t.field({ type: [GrantType], resolve: (entry) => entry.grants }),
  }),
});

const IssuedTokenType = builder.objectRef<{ token: string; expiresAt: Date }>('IssuedToken').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'A JWT; send as `Authorization: Bearer <token>`.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

function dateOrNull(time: number | null): Date | null {
  return time === null ? null : new Date(time);
}

/**
 * Throws FORBIDDEN unless the caller has every action that a queue key grants, because the holder
 * of the key's secret can use them all. Otherwise MANAGE alone would be a way to CONSUME.
 */
function requireActions(ctx: Context, queue: string, actions: QueueAction[]): void {
  for (const action of actions) ctx.access.authorize(ctx.principal, { action, queue, keys: null });
}

/** Returns the queue of a queue key for the permission check; '' for an unknown key, which no grant names. */
function queueOfKey(id: string, ctx: Context): { queue: string; keys: null } {
  return { queue: ctx.access.store.queueKey(id)?.queue ?? '', keys: null };
}

builder.queryFields((t) => ({
  me: t.field({
    type: PrincipalType,
    description: "The caller's principal and grants.",
    ...requires('AUTHENTICATED'),
    resolve: (_root, _args, ctx) => ctx.principal,
  }),
  serviceAccounts: t.field({
    type: [ServiceAccountType],
    ...requires('ADMIN'),
    resolve: (_root, _args, ctx) => ctx.access.store.serviceAccounts(),
  }),
  roleGrants: t.field({
    type: [RoleGrantsType],
    description: 'Grants that setRoleGrants gave to the roles of user tokens.',
    ...requires('ADMIN'),
    resolve: (_root, _args, ctx) => ctx.access.store.allRoleGrants(),
  }),
  queueKeys: t.field({
    type: [QueueKeyType],
    description: 'The keys of a queue, revoked ones included.',
    args: { queue: t.arg.string({ required: true }) },
    ...queueAction('MANAGE', (args: { queue: string }) => ({ queue: args.queue, keys: null })),
    resolve: (_root, args, ctx) => ctx.access.store.queueKeys(args.queue),
  }),
}));

builder.mutationFields((t) => ({
  createServiceAccount: t.field({
    type: ServiceAccountSecretType,
    ...requires('ADMIN'),
    args: {
      name: t.arg.string({ required: true }),
      grants: t.arg({ type: [GrantInput], required: true }),
    },
    resolve: (_root, args, ctx) => ctx.access.store.createServiceAccount(args.name, parseGrants(args.grants, 'grants'), ctx.principal),
  }),
  deleteServiceAccount: t.boolean({
    description: "Deletes the account; its API key and tokens stop working and its open sockets close. False when it did not exist.",
    ...requires('ADMIN'),
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.access.store.deleteServiceAccount(args.id, ctx.principal),
  }),
  issueToken: t.field({
    type: IssuedTokenType,
    description:
      `Trades the calling service's API key for a JWT that expires after ttlSeconds (${serviceTokenTtl.min} to ${serviceTokenTtl.max}). ` +
      'A token from issueToken cannot renew itself, so a leaked token ends with its ttl.',
    ...requires('SERVICE_API_KEY'),
    unauthorizedError: (_parent, _args, ctx) =>
      new EvqError('FORBIDDEN', "Forbidden: issueToken needs a service account's API key; a token from issueToken cannot renew itself.", {
        principal: ctx.principal.id,
        field: 'Mutation.issueToken',
      }),
    args: { ttlSeconds: t.arg.int({ defaultValue: serviceTokenTtl.default, required: true }) },
    resolve: async (_root, args, ctx) => {
      const issued = await ctx.access.serviceTokens.issue(ctx.principal.subject, args.ttlSeconds);
      ctx.access.audit.changed('issued', 'service token', ctx.principal.subject, ctx.principal, { ttlSeconds: args.ttlSeconds });
      return issued;
    },
  }),
  setRoleGrants: t.field({
    type: RoleGrantsType,
    description: "Sets the grants of a role named in user tokens' evq.roles claim; an empty list removes them.",
    ...requires('ADMIN'),
    args: {
      role: t.arg.string({ required: true }),
      grants: t.arg({ type: [GrantInput], required: true }),
    },
    resolve: (_root, args, ctx) => ctx.access.store.setRoleGrants(args.role, parseGrants(args.grants, 'grants'), ctx.principal),
  }),
  createQueueKey: t.field({
    type: QueueKeySecretType,
    description: 'Creates a credential for one queue and the given actions; the caller needs MANAGE and each of the actions.',
    args: {
      queue: t.arg.string({ required: true }),
      actions: t.arg({ type: [QueueActionType], required: true }),
      expiresAt: t.arg({ type: 'DateTime' }),
    },
    ...queueAction('MANAGE', (args: { queue: string }) => ({ queue: args.queue, keys: null })),
    resolve: async (_root, args, ctx) => {
      await ctx.service.requireQueue(args.queue);
      if (args.actions.length === 0) throw errors.invalidInput('actions', args.actions, `a non-empty list of ${queueActions.join(', ')}`);
      requireActions(ctx, args.queue, args.actions);
      return ctx.access.store.createQueueKey(args.queue, args.actions, args.expiresAt ?? null, ctx.principal);
    },
  }),
  rotateQueueKey: t.field({
    type: QueueKeySecretType,
    description:
      'Gives the key a new secret; the previous one keeps working for graceSeconds (default from EVQ_KEY_ROTATION_GRACE_SECONDS). ' +
      "The caller needs MANAGE and each of the key's actions.",
    args: { id: t.arg.string({ required: true }), graceSeconds: t.arg.int() },
    ...queueAction('MANAGE', (args: { id: string }, ctx) => queueOfKey(args.id, ctx)),
    resolve: (_root, args, ctx) => {
      const graceSeconds = args.graceSeconds ?? ctx.access.keyRotationGraceSeconds;
      if (graceSeconds < 0 || graceSeconds > 30 * 24 * 3600) throw errors.outOfRange('graceSeconds', graceSeconds, 0, 30 * 24 * 3600);
      const key = ctx.access.store.requireActiveQueueKey(args.id);
      requireActions(ctx, key.queue, key.actions);
      return ctx.access.store.rotateQueueKey(args.id, graceSeconds, ctx.principal);
    },
  }),
  revokeQueueKey: t.boolean({
    description: 'Revokes the key at once and closes its open sockets; false when it was already revoked.',
    args: { id: t.arg.string({ required: true }) },
    ...queueAction('MANAGE', (args: { id: string }, ctx) => queueOfKey(args.id, ctx)),
    resolve: (_root, args, ctx) => ctx.access.store.revokeQueueKey(args.id, ctx.principal),
  }),
}));
