/**
 * Merkle tree hashes of evq's batched storage signatures (`v1m`), computed with WebCrypto so they
 * run in browsers. Leaves and inner nodes hash as RFC 6962 section 2.1 defines them, and
 * `merkleRootFromPath` folds an audit path into a root with the algorithm of RFC 9162 section
 * 2.1.3.2. They match src/signing/merkle.ts byte for byte, and both pass sdk/vectors/signatures.json.
 */
import { fromBase64, toHex, utf8Bytes } from './encoding.ts';

/** Length of a SHA-256 hash in bytes, and so of every leaf, node and audit path entry. */
export const merkleHashLength = 32;

/** First line of the text that evq signs for a tree. */
export const signedRootVersion = 'evq-v1m';

/** A message's position in a signed tree and the sibling hashes from its leaf up to the root. */
export interface MerkleProof {
  index: number;
  /** Number of leaves in the tree. */
  size: number;
  path: Uint8Array<ArrayBuffer>[];
}

/** Returns the leaf hash of UTF-8 text: SHA-256 of the byte 0x00 and the text. */
export async function merkleLeafHash(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const data = utf8Bytes(text);
  const input = new Uint8Array(1 + data.length);
  input[0] = 0x00;
  input.set(data, 1);
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', input));
}

/** Returns the inner node hash: SHA-256 of the byte 0x01, the left child and the right child. */
async function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', input));
}

const proofPattern = /^(0|[1-9][0-9]*):([1-9][0-9]*):([A-Za-z0-9+/=]*)$/;

/**
 * Parses a proof of the form `<index>:<size>:<standard base64 of the concatenated 32-byte path
 * hashes>`. Returns null when the text is not that form, the numbers are not safe integers, the
 * index is not below the size, or the path length is not a multiple of 32 bytes.
 */
export function parseMerkleProof(proof: string): MerkleProof | null {
  const match = proofPattern.exec(proof);
  if (match === null) return null;

  const index = Number(match[1]);
  const size = Number(match[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index >= size) return null;

  const bytes = fromBase64(match[3]!);
  if (bytes === null || bytes.length % merkleHashLength !== 0) return null;
  const path: Uint8Array<ArrayBuffer>[] = [];
  for (let offset = 0; offset < bytes.length; offset += merkleHashLength) {
    path.push(bytes.subarray(offset, offset + merkleHashLength));
  }
  return { index, size, path };
}

/**
 * Returns the root that a leaf hash and its audit path lead to (RFC 9162 section 2.1.3.2). Returns
 * null when the path is too short or too long for leaf `index` of a tree of `size` leaves. A tree
 * of one leaf has an empty path, and its root is the leaf.
 *
 * NOTE: The signature covers the root alone, so a verified proof shows that the leaf is in the
 * signed tree but not its index or the tree's size. Leaf 0 of 5 with its path also leads to the
 * same root when the proof claims a size of 6, 7 or 8.
 */
export async function merkleRootFromPath(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[]): Promise<Uint8Array | null> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;

  // fn is the current node's position in its level, and sn is the position of the level's last
  // node. A right child, or a last node without a right sibling, takes its sibling on the left.
  // A last node without any sibling moves up unchanged, which the inner loop skips.
  let fn = index;
  let sn = size - 1;
  let root: Uint8Array = leaf;
  for (const sibling of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      root = await nodeHash(sibling, root);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      root = await nodeHash(root, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? root : null;
}

/** Returns the text that evq's Ed25519 key signs for a tree: `evq-v1m`, a line feed and the lowercase hex root. */
export function signedRootText(root: Uint8Array): string {
  return `${signedRootVersion}\n${toHex(root)}`;
}

/**
 * Returns the root of the tree that a message's storage canonical string belongs to according to
 * its proof, or null when the proof is malformed or does not fit its own index and size.
 */
export async function merkleRootFromProof(canonical: string, proof: string): Promise<Uint8Array | null> {
  const parsed = parseMerkleProof(proof);
  if (parsed === null) return null;
  return merkleRootFromPath(await merkleLeafHash(canonical), parsed.index, parsed.size, parsed.path);
}
