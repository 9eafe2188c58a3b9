// Writes sdk/vectors/signatures.json, the test vectors that the TypeScript, Go and Python
// signature code must reproduce byte for byte. The keys are derived from fixed labels, so the
// output is the same on every run. Usage: node scripts/make-signature-vectors.ts
import { createHash, createPublicKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { canonicalJson, canonicalString, dataDigest, storageCanonicalString } from '../src/signing/canonical.ts';
import { auditPath, leafHash, signedRoot, treeRoot } from '../src/signing/merkle.ts';
import { ed25519PrivateKeyFromSeed, ed25519RawPublicKey, signV1, signV1a } from '../src/signing/signatures.ts';

const seedOf = (label: string) => createHash('sha256').update(label).digest();
const producerSeed = seedOf('evq test vectors: producer key');
const evqSeed = seedOf('evq test vectors: evq storage key');
const producerKey = ed25519PrivateKeyFromSeed(producerSeed);
const evqKey = ed25519PrivateKeyFromSeed(evqSeed);
const hmacSecret = 'evq_qk_vectorKeyId0001.UmFuZG9tLWxvb2tpbmcgc2VjcmV0IGZvciB0ZXN0IHZlY3RvcnM';

interface Case {
  name: string;
  queue: string;
  id: string;
  timestamp: number;
  nonce: string;
  /** The payload as JSON text; implementations parse it, then canonicalize. */
  dataJson: string;
  producer: string | null;
  /** Stored fields that only evq's storage signature covers. */
  key: string | null;
  headers: Record<string, string>;
  /** In ms since the epoch. */
  deliverAt: number | null;
}

const cases: Case[] = [
  { name: 'simple object', queue: 'orders', id: 'order-42', timestamp: 1767225600, nonce: 'n-0001', dataJson: '{"orderId":42,"amount":19.99,"currency":"EUR"}', producer: 'service:billing', key: 'customer-7', headers: { source: 'checkout', 'trace-id': 'abc123' }, deliverAt: null },
  { name: 'unicode strings and keys', queue: 'notifications', id: 'msg-ü-1', timestamp: 1767225601, nonce: 'nonce-☕', dataJson: '{"name":"Zoë ☕ 𝄞","emoji":"😀","cjk":"日本語","é":"accent","€":"euro","😀":"surrogate key","A":1,"a":2}', producer: 'user:alice', key: 'user-ünïcødé', headers: { 'x-émoji': '😀', b: '2', a: '1' }, deliverAt: 1767229200000 },
  { name: 'numbers', queue: 'metrics', id: 'n-1', timestamp: 1767225602, nonce: 'num', dataJson: '{"big":1e21,"bigger":1.5e300,"negzero":-0,"small":1e-7,"tiny":5e-324,"maxsafe":9007199254740991,"frac":0.1,"neg":-1.5,"int":100,"exp":2e-6,"round":1.0,"float":123456789.123}', producer: null, key: null, headers: {}, deliverAt: null },
  { name: 'nested objects and arrays', queue: 'a.b-c_d', id: 'nested', timestamp: 1767225603, nonce: '9f86d081884c7d65', dataJson: '{"b":{"z":[1,{"y":null,"x":true}],"a":"s"},"a":[],"c":{},"d":[[],[{}],false]}', producer: 'queue-key:abc', key: 'k', headers: {}, deliverAt: 1767225603999 },
  { name: 'empty strings', queue: 'q', id: 'e', timestamp: 1767225604, nonce: '', dataJson: '{"":"","empty":""}', producer: '', key: null, headers: { empty: '' }, deliverAt: null },
  { name: 'escapes', queue: 'q', id: 'escapes', timestamp: 1767225605, nonce: 'esc', dataJson: '{"quote":"\\"","backslash":"\\\\","control":"\\u0001\\u001f\\n\\t\\r\\b\\f","slash":"/","del":"\\u007f","line":"\\u2028"}', producer: 'service:x', key: 'line\\nkey "quoted"', headers: { 'quote"': 'back\\\\slash' }, deliverAt: null },
  { name: 'top-level string', queue: 'strings', id: 's', timestamp: 1767225606, nonce: 'str', dataJson: '"just a string"', producer: null, key: null, headers: {}, deliverAt: null },
  { name: 'top-level number', queue: 'numbers', id: 'num', timestamp: 1767225607, nonce: 'numb', dataJson: '-0.0', producer: null, key: null, headers: {}, deliverAt: null },
  { name: 'top-level null', queue: 'nulls', id: 'null', timestamp: 1767225608, nonce: 'nul', dataJson: 'null', producer: null, key: null, headers: {}, deliverAt: null },
  { name: 'top-level array', queue: 'arrays', id: 'arr', timestamp: 1767225609, nonce: 'arr', dataJson: '[3,"two",{"one":1},null,true]', producer: null, key: 'arr', headers: {}, deliverAt: 0 },
];

const rawPublicKey = (seed: Buffer) => ed25519RawPublicKey(createPublicKey(ed25519PrivateKeyFromSeed(seed)));

const signedCases = cases.map((entry) => {
  const data = JSON.parse(entry.dataJson) as unknown;
  const fields = { queue: entry.queue, id: entry.id, timestamp: entry.timestamp, nonce: entry.nonce, data };
  const canonical = canonicalString(fields);
  const storage = storageCanonicalString(fields, entry);
  return {
    ...entry,
    jcs: canonicalJson(data),
    dataSha256: dataDigest(data),
    canonical,
    v1: signV1(hmacSecret, canonical),
    v1a: signV1a(producerKey, canonical),
    storage: { canonical: storage, signature: signV1a(evqKey, storage) },
  };
});

/** Messages that evq seals together share one signed Merkle root; each carries its audit path. */
const batches = [
  { name: 'one message', cases: [0] },
  { name: 'two messages', cases: [0, 1] },
  { name: 'three messages', cases: [2, 3, 4] },
  { name: 'five messages', cases: [0, 1, 2, 3, 4] },
  { name: 'all ten messages', cases: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
].map((batch) => {
  const leaves = batch.cases.map((index) => leafHash(signedCases[index]!.storage.canonical));
  const root = treeRoot(leaves);
  return {
    name: batch.name,
    cases: batch.cases.map((index) => signedCases[index]!.name),
    leaves: leaves.map((leaf) => leaf.toString('hex')),
    root: root.toString('hex'),
    signedRoot: signedRoot(root),
    signature: `v1m=${signV1a(evqKey, signedRoot(root)).slice('v1a='.length)}`,
    proofs: leaves.map((_leaf, index) => `${index}:${leaves.length}:${Buffer.concat(auditPath(leaves, index)).toString('base64')}`),
  };
});

const vectors = {
  description:
    'Test vectors for evq message signatures (docs/signatures.md). Every implementation must produce canonical, jcs, dataSha256, ' +
    'v1, v1a and storage.signature byte for byte from the inputs, and must accept them. storageBatches lists messages that evq ' +
    'sealed together: leaf hashes, the Merkle root, the signed root text, its v1m signature and each message\'s proof.',
  keys: {
    hmacSecret,
    producerEd25519: { seedHex: producerSeed.toString('hex'), publicKeyHex: rawPublicKey(producerSeed).toString('hex') },
    evqEd25519: { seedHex: evqSeed.toString('hex'), publicKeyHex: rawPublicKey(evqSeed).toString('hex'), kid: 'evq-vector-key' },
  },
  cases: signedCases,
  storageBatches: batches,
};

await writeFile(new URL('../sdk/vectors/signatures.json', import.meta.url), `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${vectors.cases.length} cases to sdk/vectors/signatures.json`);
