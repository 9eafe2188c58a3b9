// Writes sdk/vectors/signatures.json, the test vectors that the TypeScript, Go and Python
// signature code must reproduce byte for byte. The keys are derived from fixed labels, so the
// output is the same on every run. Usage: node scripts/make-signature-vectors.ts
import { createHash, createPublicKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { canonicalJson, canonicalString, dataDigest, storageCanonicalString } from '../src/signing/canonical.ts';
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
}

const cases: Case[] = [
  { name: 'simple object', queue: 'orders', id: 'order-42', timestamp: 1767225600, nonce: 'n-0001', dataJson: '{"orderId":42,"amount":19.99,"currency":"EUR"}', producer: 'service:billing' },
  { name: 'unicode strings and keys', queue: 'notifications', id: 'msg-ü-1', timestamp: 1767225601, nonce: 'nonce-☕', dataJson: '{"name":"Zoë ☕ 𝄞","emoji":"😀","cjk":"日本語","é":"accent","€":"euro","😀":"surrogate key","A":1,"a":2}', producer: 'user:alice' },
  { name: 'numbers', queue: 'metrics', id: 'n-1', timestamp: 1767225602, nonce: 'num', dataJson: '{"big":1e21,"bigger":1.5e300,"negzero":-0,"small":1e-7,"tiny":5e-324,"maxsafe":9007199254740991,"frac":0.1,"neg":-1.5,"int":100,"exp":2e-6,"round":1.0,"float":123456789.123}', producer: null },
  { name: 'nested objects and arrays', queue: 'a.b-c_d', id: 'nested', timestamp: 1767225603, nonce: '9f86d081884c7d65', dataJson: '{"b":{"z":[1,{"y":null,"x":true}],"a":"s"},"a":[],"c":{},"d":[[],[{}],false]}', producer: 'queue-key:abc' },
  { name: 'empty strings', queue: 'q', id: 'e', timestamp: 1767225604, nonce: '', dataJson: '{"":"","empty":""}', producer: '' },
  { name: 'escapes', queue: 'q', id: 'escapes', timestamp: 1767225605, nonce: 'esc', dataJson: '{"quote":"\\"","backslash":"\\\\","control":"\\u0001\\u001f\\n\\t\\r\\b\\f","slash":"/","del":"\\u007f","line":"\\u2028"}', producer: 'service:x' },
  { name: 'top-level string', queue: 'strings', id: 's', timestamp: 1767225606, nonce: 'str', dataJson: '"just a string"', producer: null },
  { name: 'top-level number', queue: 'numbers', id: 'num', timestamp: 1767225607, nonce: 'numb', dataJson: '-0.0', producer: null },
  { name: 'top-level null', queue: 'nulls', id: 'null', timestamp: 1767225608, nonce: 'nul', dataJson: 'null', producer: null },
  { name: 'top-level array', queue: 'arrays', id: 'arr', timestamp: 1767225609, nonce: 'arr', dataJson: '[3,"two",{"one":1},null,true]', producer: null },
];

const rawPublicKey = (seed: Buffer) => ed25519RawPublicKey(createPublicKey(ed25519PrivateKeyFromSeed(seed)));

const vectors = {
  description:
    'Test vectors for evq message signatures (docs/signatures.md). Every implementation must produce canonical, jcs, dataSha256, ' +
    'v1, v1a and storage.signature byte for byte from the inputs, and must accept them.',
  keys: {
    hmacSecret,
    producerEd25519: { seedHex: producerSeed.toString('hex'), publicKeyHex: rawPublicKey(producerSeed).toString('hex') },
    evqEd25519: { seedHex: evqSeed.toString('hex'), publicKeyHex: rawPublicKey(evqSeed).toString('hex'), kid: 'evq-vector-key' },
  },
  cases: cases.map((entry) => {
    const data = JSON.parse(entry.dataJson) as unknown;
    const fields = { queue: entry.queue, id: entry.id, timestamp: entry.timestamp, nonce: entry.nonce, data };
    const canonical = canonicalString(fields);
    const storage = storageCanonicalString(fields, entry.producer);
    return {
      ...entry,
      jcs: canonicalJson(data),
      dataSha256: dataDigest(data),
      canonical,
      v1: signV1(hmacSecret, canonical),
      v1a: signV1a(producerKey, canonical),
      storage: { canonical: storage, signature: signV1a(evqKey, storage) },
    };
  }),
};

await writeFile(new URL('../sdk/vectors/signatures.json', import.meta.url), `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${vectors.cases.length} cases to sdk/vectors/signatures.json`);
