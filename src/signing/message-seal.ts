import { sign } from 'node:crypto';
import type { NewMessage, StoredMessage } from '../engines/engine.ts';
import { type StoredFields, storageCanonicalString } from './canonical.ts';
import type { EvqKeyRing } from './evq-keys.ts';
import { leafHash, MerkleTree, signedRoot, verifySignedRoot, verifyStorageSignature, walkProof } from './merkle.ts';

/** Record headers that carry evq's signature; producers may not set headers with the `evq-` prefix. */
export const sealHeaders = {
  keyId: 'evq-key-id',
  timestamp: 'evq-timestamp',
  signature: 'evq-signature',
  proof: 'evq-proof',
} as const;

/** Prefix reserved for evq's own record headers. */
export const reservedHeaderPrefix = 'evq-';

/** evq's signature of a stored message, as consumers verify it against the JWKS. */
export interface MessageSignature {
  keyId: string;
  timestamp: number;
  /** Always empty: evq's storage signature has no nonce. */
  nonce: string;
  /** `v1m=` and the base64 signature of the batch's Merkle root. */
  value: string;
  /** `<index>:<size>:<base64 audit path>` from this message to the signed root; null for a `v1a` signature. */
  proof: string | null;
}

/** One publish request waiting for the seal of the current event-loop turn. */
interface PendingSeal {
  queue: string;
  messages: NewMessage[];
  canonicals: string[];
  timestamp: number;
  resolve(sealed: NewMessage[]): void;
  reject(error: unknown): void;
}

/** Leaves that make the tree flush at once instead of at the end of the turn, bounding proof size. */
const maxLeavesPerTree = 4096;

/** Tree nodes proven under a signature, remembered so later checks can stop there. */
const maxVerifiedNodes = 50_000;

/**
 * Signs each message before it is stored and checks stored records before delivery.
 *
 * The messages of one queue sealed in one event-loop turn, across requests, form a Merkle tree over
 * their storage canonical strings. evq signs the root with its current Ed25519 key, once, and each
 * message stores its audit path. So a batch costs one signature instead of one per message, each
 * about 36 µs with node:crypto on the benchmark machine. Before delivery evq checks
 * the same signature that consumers check with the JWKS: it recomputes the message's leaf, follows
 * its path towards the root and verifies the root's signature. Every node on a verified path is
 * remembered with its signature, so the walk of another message of the batch stops at the first
 * node already proven, usually after one or two hashes.
 */
export class MessageSeal {
  readonly #keys: EvqKeyRing;
  readonly #verifiedNodes = new Set<string>();
  #pending: PendingSeal[] = [];
  #pendingLeaves = 0;
  #flushScheduled = false;

  constructor(keys: EvqKeyRing) {
    this.#keys = keys;
  }

  /**
   * Resolves with copies of the messages that carry evq's signature headers; `data` contains their
   * parsed payloads. The messages of every call in the same event-loop turn share one signature.
   */
  seal(queue: string, messages: NewMessage[], data: unknown[], now: number): Promise<NewMessage[]> {
    const timestamp = Math.floor(now / 1000);
    const canonicals = messages.map((message, index) =>
      storageCanonicalString({ queue, id: message.id, timestamp, data: data[index] }, storedFields(message)),
    );
    const { promise, resolve, reject } = Promise.withResolvers<NewMessage[]>();
    this.#pending.push({ queue, messages, canonicals, timestamp, resolve, reject });
    this.#pendingLeaves += messages.length;
    if (this.#pendingLeaves >= maxLeavesPerTree) {
      this.#flush();
    } else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
    return promise;
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingLeaves = 0;
    this.#flushScheduled = false;
    // One tree per queue: a proof lists sibling hashes, which must not tell a consumer of one
    // queue about the messages of another.
    const byQueue = new Map<string, PendingSeal[]>();
    for (const pending of batch) {
      const group = byQueue.get(pending.queue);
      if (group) group.push(pending);
      else byQueue.set(pending.queue, [pending]);
    }
    for (const group of byQueue.values()) {
      try {
        this.#sealGroup(group);
      } catch (error) {
        for (const pending of group) pending.reject(error);
      }
    }
  }

  #sealGroup(group: PendingSeal[]): void {
    const tree = new MerkleTree(group.flatMap((pending) => pending.canonicals.map(leafHash)));
    const { kid, privateKey } = this.#keys.current();
    const value = `v1m=${sign(null, Buffer.from(signedRoot(tree.root), 'utf8'), privateKey).toString('base64')}`;
    this.#remember(value, [tree.root]);
    const size = group.reduce((total, pending) => total + pending.messages.length, 0);
    let index = 0;
    for (const pending of group) {
      pending.resolve(
        pending.messages.map((message) => {
          const proof = `${index}:${size}:${Buffer.concat(tree.path(index)).toString('base64')}`;
          index++;
          return {
            ...message,
            headers: {
              ...message.headers,
              [sealHeaders.keyId]: kid,
              [sealHeaders.timestamp]: String(pending.timestamp),
              [sealHeaders.signature]: value,
              [sealHeaders.proof]: proof,
            },
          };
        }),
      );
    }
  }

  /** Returns evq's signature of a stored message, or null when it has none. */
  signatureOf(message: StoredMessage): MessageSignature | null {
    const keyId = message.headers[sealHeaders.keyId];
    const timestamp = Number(message.headers[sealHeaders.timestamp]);
    const value = message.headers[sealHeaders.signature];
    if (keyId === undefined || value === undefined || !Number.isSafeInteger(timestamp)) return null;
    return { keyId, timestamp, nonce: '', value, proof: message.headers[sealHeaders.proof] ?? null };
  }

  /** Returns null when the stored record carries a valid evq signature, or the reason it does not. */
  check(message: StoredMessage): string | null {
    const signature = this.signatureOf(message);
    if (signature === null) return 'the record has no evq signature';
    const publicKey = this.#keys.publicKey(signature.keyId);
    if (publicKey === null) return `the record is signed with unknown key ${JSON.stringify(signature.keyId)}`;
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      return 'the record data is not JSON';
    }
    const canonical = storageCanonicalString({ queue: message.queue, id: message.id, timestamp: signature.timestamp, data }, storedFields(message));
    const mismatch = 'the record does not match its evq signature';
    if (!signature.value.startsWith('v1m=')) {
      return verifyStorageSignature(publicKey, canonical, signature.value, signature.proof) ? null : mismatch;
    }
    const visited: Buffer[] = [];
    const walk = walkProof(canonical, signature.proof, (node) => {
      visited.push(node);
      return this.#verifiedNodes.has(nodeKey(signature.value, node));
    });
    if (walk === null) return mismatch;
    if (!walk.stopped && !verifySignedRoot(publicKey, walk.node, signature.value)) return mismatch;
    this.#remember(signature.value, visited);
    return null;
  }

  #remember(value: string, nodes: Buffer[]): void {
    if (this.#verifiedNodes.size + nodes.length > maxVerifiedNodes) this.#verifiedNodes.clear();
    for (const node of nodes) this.#verifiedNodes.add(nodeKey(value, node));
  }
}

/** Returns the set key of a node proven under a signature value; the value's last 24 characters tell signatures apart. */
function nodeKey(value: string, node: Buffer): string {
  return `${value.slice(-24)}${node.toString('base64')}`;
}

/** Returns the fields besides the payload that the storage signature covers. */
function storedFields(message: NewMessage | StoredMessage): StoredFields {
  return {
    producer: message.producer,
    key: message.key,
    headers: producerHeaders(message.headers),
    deliverAt: message.deliverAt === null ? null : message.deliverAt.getTime(),
  };
}

/** Returns the headers without evq's own, as producers set them. */
export function producerHeaders(headers: Record<string, string>): Record<string, string> {
  let copy: Record<string, string> | null = null;
  for (const name of Object.keys(headers)) {
    if (name.startsWith(reservedHeaderPrefix)) {
      copy ??= { ...headers };
      delete copy[name];
    }
  }
  return copy ?? headers;
}
