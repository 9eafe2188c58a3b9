import { readFileSync } from 'node:fs';

/** One case of sdk/vectors/signatures.json: the inputs and every value derived from them. */
export interface VectorCase {
  name: string;
  queue: string;
  id: string;
  timestamp: number;
  nonce: string;
  /** The payload as JSON text; implementations parse it, then canonicalize. */
  dataJson: string;
  producer: string | null;
  key: string | null;
  headers: Record<string, string>;
  /** In ms since the epoch. */
  deliverAt: number | null;
  jcs: string;
  dataSha256: string;
  canonical: string;
  v1: string;
  v1a: string;
  storage: { canonical: string; signature: string };
}

/** Messages that evq sealed together under one signed Merkle root. */
export interface VectorBatch {
  name: string;
  /** Names of the cases whose storage canonical strings are the leaves, in leaf order. */
  cases: string[];
  /** Leaf hashes in hex. */
  leaves: string[];
  /** Root hash in hex. */
  root: string;
  signedRoot: string;
  /** `v1m=` and the base64 Ed25519 signature of signedRoot. */
  signature: string;
  /** Proof of each leaf, in leaf order. */
  proofs: string[];
}

export interface SignatureVectors {
  keys: {
    hmacSecret: string;
    producerEd25519: { seedHex: string; publicKeyHex: string };
    evqEd25519: { seedHex: string; publicKeyHex: string; kid: string };
  };
  cases: VectorCase[];
  storageBatches: VectorBatch[];
}

/** Reads the committed signature vectors that the TypeScript, Go and Python code must reproduce. */
export function loadSignatureVectors(): SignatureVectors {
  return JSON.parse(readFileSync(new URL('../../sdk/vectors/signatures.json', import.meta.url), 'utf8')) as SignatureVectors;
}
