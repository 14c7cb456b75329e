import { bench, describe } from 'vitest';
import { hash64, simhash } from './simhash';

// The same function as hash64 on bigint, to show what the 32-bit halves buy.
const M64 = (1n << 64n) - 1n;
function hash64BigInt(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & M64;
  h = ((h ^ (h >> 33n)) * 0xff51afd7ed558ccdn) & M64;
  h = ((h ^ (h >> 33n)) * 0xc4ceb9fe1a85ec53n) & M64;
  return h ^ (h >> 33n);
}

const bigrams = Array.from({ length: 1000 }, (_, i) =>
  String.fromCharCode(97 + (i % 26), 97 + ((i * 7) % 26)),
);
const memos = Array.from(
  { length: 1000 },
  (_, i) => `Payment to Amazon Marketplace for order ${i * 7919} and some notes ${i % 13}`,
);

describe('feature hash (1000 bigrams)', () => {
  bench('hash64, 32-bit halves', () => {
    for (const b of bigrams) hash64(b);
  });
  bench('same function on bigint', () => {
    for (const b of bigrams) hash64BigInt(b);
  });
});

describe('simhash (1000 memos of 58 characters)', () => {
  bench('simhash', () => {
    for (const m of memos) simhash(m);
  });
});
