import type { Admin } from '@platformatic/kafka';
import { errors } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { AckOutcome, Lease, ReceiveOptions } from '../engine.ts';
import { toEngineError } from './client-errors.ts';
import type { ConfigStore, StoredQueueConfig } from './config-store.ts';
import { GroupMember } from './group-member.ts';
import { requestRecord, type DeliveryRequest } from './journal.ts';
import { applyRequest, expireLeases, leaseReady, nextDueAt, type LeaseContext, type Verdict } from './lease-operations.ts';
import type { LogReader } from './log-reader.ts';
import type { RecordToProduce } from './message-codec.ts';
import type { PartitionState } from './partition-state.ts';
import type { ProduceBatcher } from './produce-batcher.ts';
import { decodeReceipt, type ReceiptFields } from './receipts.ts';
import { groupHasMembers, sendRemoteRequest, verdictTimeoutMs } from './remote-requests.ts';
import type { TopicNames } from './topic-names.ts';

export interface WorkQueueOptions {
  brokers: string[];
  clientId: string;
  writer: string;
  admin: Admin;
  reader: LogReader;
  batcher: ProduceBatcher;
  store: ConfigStore;
  names: TopicNames;
  logger: Logger;
}

type RequestKind = DeliveryRequest['kind'];

/**
 * The work queue of every queue at this instance: one `GroupMember` per (queue, group) that was
 * received from here, and the routing of acks, nacks and extends. A receipt whose partition this
 * instance owns is applied here; any other goes through the journal to the owner.
 */
export class WorkQueue {
  readonly #options: WorkQueueOptions;
  readonly #members = new Map<string, Promise<GroupMember>>();
  /** The members whose start has finished, by the same key as `#members`. */
  readonly #started = new Map<string, GroupMember>();
  readonly #purges = new Map<string, number>();
  /** Queues whose members are closing because the queue was deleted. */
  readonly #closingQueues = new Map<string, Promise<void>>();
  #closed = false;

  constructor(options: WorkQueueOptions) {
    this.#options = options;
  }

  async receive(config: StoredQueueConfig, group: string, options: ReceiveOptions, shutdown: AbortSignal): Promise<Lease[]> {
    // NOTE: the first receive of a group at this instance joins its Kafka consumer group. While a
    // crashed member is still registered, the join waits up to its session timeout (10 s), and
    // `waitMs` does not bound that wait.
    const member = await this.#member(config, group);
    await member.ready();
    const visibilityMs = Math.round(options.visibilitySeconds * 1000);
    const deadline = performance.now() + (options.waitMs ?? 0);
    const signal = options.signal === undefined ? shutdown : AbortSignal.any([options.signal, shutdown]);
    for (;;) {
      const current = this.#options.store.get(config.name);
      if (current === null || signal.aborted) {
        return [];
      }
      const seen = member.changes.version;
      await member.topUp();
      const now = Date.now();
      const context = this.#leaseContext(current, group);
      const states = [...member.partitions.values()];
      const expired = expireLeases(context, states, now);
      const { leases, records } = leaseReady(context, states, options.limit, visibilityMs, now);
      await this.#write(member, 'receive', [...expired, ...records]);
      const remaining = deadline - performance.now();
      if (leases.length > 0 || remaining <= 0 || member.changes.closed) {
        return leases;
      }
      const due = nextDueAt(states, now);
      await member.changes.wait(seen, Math.min(remaining, due === null ? Infinity : due - now), signal);
    }
  }

  /** Acks each receipt on its own. A bad receipt gets `acked: false` instead of an error. */
  async ack(config: StoredQueueConfig, receipts: string[]): Promise<AckOutcome[]> {
    return Promise.all(
      receipts.map(async (receipt) => {
        const verdict = await this.#request(config, receipt, { kind: 'ack' });
        return verdict.ok ? { receipt, acked: true } : { receipt, acked: false, error: receiptError(receipt, verdict.reason) };
      }),
    );
  }

  async nack(config: StoredQueueConfig, receipt: string, delaySeconds: number, error: string | null): Promise<void> {
    if (!Number.isFinite(delaySeconds) || delaySeconds < 0) {
      throw errors.invalidInput('delaySeconds', delaySeconds, 'a non-negative number of seconds');
    }
    const verdict = await this.#request(config, receipt, { kind: 'nack', durationMs: Math.round(delaySeconds * 1000), error });
    if (!verdict.ok) {
      throw errors.receiptInvalid(receipt, verdict.reason);
    }
  }

  async extend(config: StoredQueueConfig, receipt: string, seconds: number): Promise<Date> {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw errors.invalidInput('seconds', seconds, 'a non-negative number of seconds');
    }
    const startedAt = Date.now();
    const durationMs = Math.round(seconds * 1000);
    const verdict = await this.#request(config, receipt, { kind: 'extend', durationMs });
    if (!verdict.ok) {
      throw errors.receiptInvalid(receipt, verdict.reason);
    }
    return new Date(verdict.until ?? startedAt + durationMs);
  }

  /** Ends the expired leases that local members of the queue hold, so dead letters are written. */
  async expire(config: StoredQueueConfig): Promise<void> {
    for (const member of this.#localMembers(config.name)) {
      const records = expireLeases(this.#leaseContext(config, member.group), member.partitions.values(), Date.now());
      await this.#write(member, 'expire', records);
    }
  }

  /** Returns the started local member of (queue, group), if any. */
  localMember(queue: string, group: string): GroupMember | undefined {
    return this.#localMembers(queue).find((member) => member.group === group);
  }

  /** Follows configuration changes: a deleted queue closes its members, a purge reloads them. */
  onConfigChange(name: string, config: StoredQueueConfig | null): void {
    const members = this.#localMembers(name);
    if (config === null) {
      void this.closeQueue(name);
      return;
    }
    if (config.purges !== (this.#purges.get(name) ?? config.purges)) {
      members.forEach((member) => member.reload());
    }
    this.#purges.set(name, config.purges);
  }

  /** Closes the members of a deleted queue, so they leave their consumer groups. */
  closeQueue(name: string): Promise<void> {
    const running = this.#closingQueues.get(name);
    if (running !== undefined) {
      return running;
    }
    const closing: Promise<void>[] = [];
    for (const [key, member] of this.#members) {
      if (JSON.parse(key)[0] === name) {
        this.#members.delete(key);
        this.#started.delete(key);
        closing.push(
          member
            .then((started) => started.close())
            .catch((error: unknown) => this.#options.logger.warn({ err: error, queue: name }, 'closing a group member failed')),
        );
      }
    }
    this.#purges.delete(name);
    const done = Promise.all(closing).then(() => {
      this.#closingQueues.delete(name);
    });
    this.#closingQueues.set(name, done);
    return done;
  }

  /** Closes every member; resolves with a promise that settles when their fetch loops ended. */
  async close(): Promise<Promise<unknown>> {
    this.#closed = true;
    const members = await Promise.allSettled(this.#members.values());
    const started = members.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    await Promise.allSettled(started.map((member) => member.close()));
    return Promise.allSettled(started.map((member) => member.stopped()));
  }

  #localMembers(queue: string): GroupMember[] {
    return [...this.#started.values()].filter((member) => member.queue === queue);
  }

  #member(config: StoredQueueConfig, group: string): Promise<GroupMember> {
    if (typeof group !== 'string' || group.length === 0) {
      throw errors.invalidInput('group', group, 'a non-empty string');
    }
    const key = JSON.stringify([config.name, group]);
    let member = this.#members.get(key);
    if (member === undefined) {
      member = this.#startMember(config, group, key);
      this.#members.set(key, member);
      this.#purges.set(config.name, config.purges);
    }
    return member;
  }

  async #startMember(config: StoredQueueConfig, group: string, key: string): Promise<GroupMember> {
    const { names, writer } = this.#options;
    const member: GroupMember = new GroupMember({
      brokers: this.#options.brokers,
      clientId: `${this.#options.clientId}-group`,
      writer,
      queue: config.name,
      group,
      groupId: names.groupId(config.name, group),
      queueTopic: names.queue(config.name),
      journalTopic: names.journal(config.name),
      reader: this.#options.reader,
      logger: this.#options.logger,
      onRequest: (state, offset, requestId, request) => this.#applyRemote(member, state, offset, requestId, request),
      onIngest: () => member.changes.notify(),
    });
    try {
      await member.start();
    } catch (error) {
      this.#members.delete(key);
      await member.close();
      throw toEngineError('receive', error);
    }
    this.#started.set(key, member);
    if (this.#closed) {
      await member.close();
    }
    return member;
  }

  /** Applies a request here when this instance owns the receipt's partition, else sends it to the owner. */
  async #request(
    config: StoredQueueConfig,
    receipt: string,
    request: Pick<DeliveryRequest, 'kind' | 'durationMs' | 'error'>,
  ): Promise<Verdict> {
    const fields = decodeReceipt(receipt);
    if (fields === null || fields.partition >= config.partitions) {
      return { ok: false, reason: 'it is malformed' };
    }
    let member = this.localMember(config.name, fields.group);
    if (member === undefined && !(await this.#groupHasMembers(config, fields.group))) {
      // No instance holds the group's partitions, as after a restart: take them, and with them
      // the leases that the journal records.
      member = await this.#member(config, fields.group);
    }
    await member?.ready();
    const state = member?.partitions.get(fields.partition);
    if (member === undefined || state === undefined) {
      return this.#requestRemotely(config, fields, request);
    }
    if (fields.offset >= state.fetchNext) {
      // The journal may hold a lease on a record that this member has not fetched yet.
      await member.topUp();
    }
    const context = this.#leaseContext(config, fields.group);
    const outcome = applyRequest(context, state, fields.offset, { ...request, token: fields.token, at: Date.now() });
    await this.#write(member, request.kind, outcome.records);
    if (request.kind !== 'ack') {
      member.changes.notify();
    }
    return outcome.verdict;
  }

  async #requestRemotely(
    config: StoredQueueConfig,
    fields: ReceiptFields,
    request: Pick<DeliveryRequest, 'kind' | 'durationMs' | 'error'>,
  ): Promise<Verdict> {
    const { names } = this.#options;
    let verdict: Verdict | null;
    try {
      verdict = await sendRemoteRequest(
        { ...this.#options, journalTopic: names.journal(config.name), groupId: names.groupId(config.name, fields.group) },
        fields,
        request,
      );
    } catch (error) {
      throw toEngineError(request.kind, error);
    }
    if (verdict === null) {
      if (request.kind === 'ack') {
        return { ok: false, reason: 'no instance confirmed the ack in time; it applies if the lease is still live' };
      }
      throw errors.engineUnavailable(request.kind, new Error(`the owner of the partition did not respond within ${verdictTimeoutMs} ms`));
    }
    return verdict;
  }

  async #groupHasMembers(config: StoredQueueConfig, group: string): Promise<boolean> {
    try {
      return await groupHasMembers({ admin: this.#options.admin, groupId: this.#options.names.groupId(config.name, group) });
    } catch (error) {
      throw toEngineError('ack', error);
    }
  }

  /** Applies a request that another instance wrote to the journal and writes the verdict. */
  #applyRemote(member: GroupMember, state: PartitionState, offset: number, requestId: string, request: DeliveryRequest): void {
    const config = this.#options.store.get(member.queue);
    if (config === null) {
      return;
    }
    const context = this.#leaseContext(config, member.group);
    const { verdict, records } = applyRequest(context, state, offset, request);
    const verdictValue = verdict.ok
      ? { kind: 'verdict' as const, ok: true, writer: context.writer, ...(verdict.until === undefined ? {} : { until: verdict.until }) }
      : { kind: 'verdict' as const, ok: false, reason: verdict.reason, writer: context.writer };
    records.push(requestRecord(context.journalTopic, state.partition, member.group, offset, verdictValue, requestId));
    this.#write(member, `remote ${request.kind}`, records).then(
      () => member.changes.notify(),
      (error: unknown) => this.#options.logger.error({ err: error, queue: member.queue, requestId }, 'applying a request failed'),
    );
  }

  /**
   * Writes journal and dead-letter records and schedules a commit. When the write fails, the member
   * reloads its partitions from the journal, so memory never runs ahead of what is stored.
   */
  async #write(member: GroupMember, operation: RequestKind | string, records: RecordToProduce[]): Promise<void> {
    if (records.length === 0) {
      return;
    }
    try {
      await this.#options.batcher.send(operation, records);
    } catch (error) {
      member.reload();
      throw toEngineError(operation, error);
    }
    member.scheduleCommit();
  }

  #leaseContext(config: StoredQueueConfig, group: string): LeaseContext {
    const { names } = this.#options;
    return {
      group,
      writer: this.#options.writer,
      journalTopic: names.journal(config.name),
      deadLetterTopic: names.deadLetters(config.name),
      maxAttempts: config.maxAttempts,
      batcher: this.#options.batcher,
      logger: this.#options.logger,
    };
  }
}

function receiptError(receipt: string, reason: string): string {
  return errors.receiptInvalid(receipt, reason).message;
}
