import { describe, expect, it } from 'vitest';
import reference from '../fixtures/simhash.json';
import { Rng } from './rng';
import {
  type Fingerprint64,
  fingerprintFromBigInt,
  fingerprintFromHex,
  fingerprintToBigInt,
  fingerprintToHex,
  fnv1a64,
  hamming,
  hash53,
  hash64,
  normalizeText,
  popcount32,
  simhash,
  simhashFeatures,
  simhashOf,
  words,
} from './simhash';

// Card-transaction memos like the synthetic generator's: templates with merchants, cities,
// names and numbers filled in. `template` tells same-template pairs (which share most words and
// are textually near-duplicates) from unrelated ones.
const MERCHANTS = [
  'Amazon Marketplace',
  'Whole Foods Market',
  'Shell Station',
  'Uber Trip',
  'Netflix',
  'Spotify Premium',
  'Starbucks Coffee',
  'Delta Airlines',
  'Hilton Hotels',
  'Apple Store',
  'Target',
  'Walmart Supercenter',
  'Home Depot',
  'Carrefour City',
  'Lidl',
  'Deutsche Bahn',
  'Booking.com',
  'Airbnb',
  'Zara',
  'IKEA Restaurant',
];
const CITIES = ['Paris', 'Berlin', 'New York', 'Tokyo', 'Lyon', 'Munich', 'Osaka', 'Chicago'];
const NAMES = ['Alice', 'Bob', 'Carol', 'Dave', 'Emma', 'Frank', 'Grace', 'Hiro', 'Ines'];

interface Memo {
  readonly text: string;
  readonly template: number;
}

function memo(r: Rng): Memo {
  const m = (): string => r.choice(MERCHANTS);
  const c = (): string => r.choice(CITIES);
  const n = (): string => r.choice(NAMES);
  const templates = [
    () => `Payment to ${m()} for order ${r.int(0, 1e6)}`,
    () => `Refund from ${m()} after returned item`,
    () => `Monthly subscription renewal ${m()} family plan`,
    () => `Dinner with ${n()} and ${n()} at a small place in ${c()}`,
    () => `Fuel stop on the highway near ${c()}, paid at pump ${r.int(1, 20)}`,
    () => `Weekly groceries at ${m()}: milk, bread, eggs and fruit`,
    () => `Train ticket ${c()} to ${c()} second class return`,
    () => `Hotel booking in ${c()} for the conference, two nights`,
    () => `Gift for ${n()}'s birthday bought online`,
    () => `Coffee and pastries before the morning meeting in ${c()}`,
    () => `Taxi from the airport to downtown ${c()} late at night`,
    () => `Cash withdrawal ATM ${c()} central station`,
    () => `Reimbursable team lunch with ${n()}, ${n()} and the new intern`,
    () => `Annual insurance premium for the car, policy ${r.int(0, 1e5)}`,
    () => `Electronics purchase: headphones and a USB charger from ${m()}`,
  ];
  const template = r.int(0, templates.length);
  return { text: templates[template](), template };
}

/** One keyboard typo (substitution, insertion, deletion or transposition) inside a word. */
function typo(r: Rng, s: string): string {
  const ws = s.split(' ');
  const long = ws.flatMap((w, i) => (w.length >= 4 ? [i] : []));
  const i = long.length > 0 ? r.choice(long) : r.int(0, ws.length);
  const w = ws[i];
  const p = r.int(1, Math.max(2, w.length - 1));
  const letter = String.fromCharCode(97 + r.int(0, 26));
  switch (r.int(0, 4)) {
    case 0:
      ws[i] = w.slice(0, p) + letter + w.slice(p + 1);
      break;
    case 1:
      ws[i] = w.slice(0, p) + letter + w.slice(p);
      break;
    case 2:
      ws[i] = w.slice(0, p) + w.slice(p + 1);
      break;
    default:
      ws[i] = w.slice(0, p) + (w[p + 1] ?? '') + (w[p] ?? '') + w.slice(p + 2);
  }
  return ws.join(' ');
}

function share(distances: number[], k: number): number {
  return distances.filter((d) => d <= k).length / distances.length;
}

function medianOf(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}

const fromHex = fingerprintFromHex;

describe('hashes against published vectors and the Python reference', () => {
  it('FNV-1a 64 matches the published test vectors', () => {
    // From the FNV reference (Fowler, Noll, Vo; IETF draft-eastlake-fnv).
    expect(fingerprintToHex(fnv1a64(''))).toBe('cbf29ce484222325');
    expect(fingerprintToHex(fnv1a64('a'))).toBe('af63dc4c8601ec8c');
    expect(fingerprintToHex(fnv1a64('foobar'))).toBe('85944171f73967e8');
  });

  for (const h of reference.hashes) {
    it(`fnv1a64 and hash64 of ${JSON.stringify(h.input)} match Python`, () => {
      expect(fingerprintToHex(fnv1a64(h.input))).toBe(h.fnv1a64);
      expect(fingerprintToHex(hash64(h.input))).toBe(h.hash64);
    });
  }

  for (const t of reference.texts) {
    it(`features and fingerprint of ${JSON.stringify(t.text.slice(0, 30))} match Python`, () => {
      expect(simhashFeatures(t.text)).toEqual(t.features);
      expect(fingerprintToHex(simhash(t.text))).toBe(t.simhash);
      // The allocation-free path and the generic one agree.
      expect(simhashOf(simhashFeatures(t.text))).toEqual(simhash(t.text));
    });
  }
});

describe('tokenizer', () => {
  it('lower-cases, folds compatibility forms and strips accents', () => {
    expect(normalizeText('Café ＡＢＣ ﬁle')).toBe('cafe abc file');
    expect(words('Paiement reçu — Café-de-la-Gare, 12€!')).toEqual([
      'paiement',
      'recu',
      'cafe',
      'de',
      'la',
      'gare',
      '12',
    ]);
  });

  it('cuts space-padded bigrams inside each word', () => {
    expect(simhashFeatures('Ab, c')).toEqual([' a', 'ab', 'b ', ' c', 'c ']);
    expect(simhashFeatures('... !!')).toEqual([]);
    expect(simhash('... !!')).toEqual({ hi: 0, lo: 0 });
  });
});

describe('simhash on memos', () => {
  const rng = new Rng(42);
  const base = Array.from({ length: 3000 }, () => memo(rng));
  const fps = base.map((m) => simhash(m.text));

  it('ignores word order, case, punctuation, spacing and accents entirely', () => {
    base.forEach((m, i) => {
      const shuffled = rng.shuffle(m.text.split(' ')).join(' ');
      const shouted = `  ${m.text.toUpperCase().replace(/ /g, ' - ')} !!!`;
      const accented = m.text.replace(/e/g, 'é').replace(/a/g, 'à');
      expect(hamming(simhash(shuffled), fps[i])).toBe(0);
      expect(hamming(simhash(shouted), fps[i])).toBe(0);
      expect(hamming(simhash(accented), fps[i])).toBe(0);
    });
  });

  it('keeps one typo close: the distances documented in simhash.ts', () => {
    const d = base.map((m, i) => hamming(simhash(typo(rng, m.text)), fps[i]));
    expect(medianOf(d)).toBeLessThanOrEqual(4);
    expect(share(d, 3)).toBeGreaterThanOrEqual(0.3);
    expect(share(d, 6)).toBeGreaterThanOrEqual(0.78);
    expect(share(d, 8)).toBeGreaterThanOrEqual(0.92);
    // Longer memos (three sentences, ~160 characters) dilute the edit.
    const long = Array.from({ length: 1000 }, () =>
      [memo(rng), memo(rng), memo(rng)].map((m) => m.text).join('. '),
    );
    const dl = long.map((t) => hamming(simhash(typo(rng, t)), simhash(t)));
    expect(share(dl, 3)).toBeGreaterThanOrEqual(0.8);
  });

  it('keeps unrelated memos far apart', () => {
    const unrelated: number[] = [];
    for (let i = 0; i < 1000; i += 1) {
      for (let j = i + 1; j < 1000; j += 1) {
        if (base[i].template !== base[j].template) unrelated.push(hamming(fps[i], fps[j]));
      }
    }
    expect(unrelated.reduce((a, b) => Math.min(a, b), 64)).toBeGreaterThan(6);
    expect(medianOf(unrelated)).toBeGreaterThanOrEqual(24);
    // Random word salads from the same vocabulary: nothing within 3.
    const vocab = [...new Set(base.flatMap((m) => m.text.split(/\W+/).filter(Boolean)))];
    const salads = Array.from({ length: 1500 }, () =>
      simhash(Array.from({ length: rng.int(6, 12) }, () => rng.choice(vocab)).join(' ')),
    );
    let closest = 64;
    for (let i = 0; i < salads.length; i += 1) {
      for (let j = i + 1; j < salads.length; j += 1) {
        closest = Math.min(closest, hamming(salads[i], salads[j]));
      }
    }
    expect(closest).toBeGreaterThan(3);
  });
});

describe('feature hash quality', () => {
  /** For each output bit: how often it flips when one bit of one input byte flips. */
  function flipRates(hash: (s: string) => Fingerprint64): number[] {
    const flips = new Array<number>(64).fill(0);
    let trials = 0;
    for (let a = 97; a < 123; a += 1) {
      for (let b = 97; b < 123; b += 1) {
        const h0 = hash(String.fromCharCode(a, b));
        for (let bit = 0; bit < 7; bit += 1) {
          const h1 = hash(String.fromCharCode(a, b ^ (1 << bit)));
          for (let o = 0; o < 32; o += 1) {
            flips[o] += ((h0.lo ^ h1.lo) >>> o) & 1;
            flips[32 + o] += ((h0.hi ^ h1.hi) >>> o) & 1;
          }
          trials += 1;
        }
      }
    }
    return flips.map((f) => f / trials);
  }

  it('hash64 avalanches: every output bit flips about half the time (SimHash needs this)', () => {
    for (const rate of flipRates(hash64)) expect(Math.abs(rate - 0.5)).toBeLessThan(0.05);
  });

  it('raw FNV-1a does not, which is why hash64 adds the fmix64 finaliser', () => {
    const rates = flipRates(fnv1a64);
    // Output bit 0 of FNV-1a flips only with input bit 0: one trial in seven.
    expect(rates[0]).toBeCloseTo(1 / 7, 6);
  });
});

describe('fingerprints', () => {
  it('hamming counts differing bits in both halves', () => {
    const z: Fingerprint64 = { hi: 0, lo: 0 };
    expect(hamming(z, z)).toBe(0);
    expect(hamming(z, { hi: 0xffffffff, lo: 0xffffffff })).toBe(64);
    expect(hamming(z, { hi: 0x80000000, lo: 1 })).toBe(2);
    expect(hamming(fromHex('0f0f0f0f0f0f0f0f'), fromHex('f0f0f0f0f0f0f0f0'))).toBe(64);
    expect(hamming(fromHex('0000000100000001'), fromHex('0000000000000000'))).toBe(2);
  });

  it('popcount32 agrees with counting bit by bit', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 2000; i += 1) {
      const x = rng.nextUint32();
      let count = 0;
      for (let b = 0; b < 32; b += 1) count += (x >>> b) & 1;
      expect(popcount32(x)).toBe(count);
    }
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(0)).toBe(0);
  });

  it('round-trips through hex and bigint', () => {
    const f: Fingerprint64 = { hi: 0xdeadbeef, lo: 0x00c0ffee };
    expect(fingerprintToHex(f)).toBe('deadbeef00c0ffee');
    expect(fingerprintFromHex('deadbeef00c0ffee')).toEqual(f);
    expect(fingerprintToBigInt(f)).toBe(0xdeadbeef00c0ffeen);
    expect(fingerprintFromBigInt(0xdeadbeef00c0ffeen)).toEqual(f);
    expect(() => fingerprintFromHex('xyz')).toThrow(RangeError);
    expect(() => fingerprintFromBigInt(1n << 64n)).toThrow(RangeError);
    expect(() => fingerprintFromBigInt(-1n)).toThrow(RangeError);
  });
});

describe('hash53', () => {
  it('is a deterministic safe integer that a one-character change moves', () => {
    const a = hash53('{"amount":12.5,"memo":"weekly groceries"}');
    expect(Number.isSafeInteger(a)).toBe(true);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(hash53('{"amount":12.5,"memo":"weekly groceries"}')).toBe(a);
    expect(hash53('{"amount":12.6,"memo":"weekly groceries"}')).not.toBe(a);
    expect(hash53('', 1)).not.toBe(hash53('', 2));
  });

  it('has no collision among 200,000 similar keys, and spreads its top bits', () => {
    const seen = new Set<number>();
    let high = 0;
    for (let i = 0; i < 200_000; i += 1) {
      const h = hash53(`record-${i}`);
      seen.add(h);
      if (h >= 2 ** 52) high += 1;
    }
    expect(seen.size).toBe(200_000);
    // The top bit is set for about half of them.
    expect(high / 200_000).toBeGreaterThan(0.48);
    expect(high / 200_000).toBeLessThan(0.52);
  });
});
