import type { Rng } from '@mlops/ml';
import type { MerchantCategory } from './cards-spec';

/**
 * Memos: free text naming the merchant, the city, two to four items and a reference, in one of
 * several phrasings. Enough independent slots (template × merchant × city × items × reference)
 * that two unrelated memos essentially never share all but one word, so a near-duplicate
 * detector's only true positives are the injected ones. 60–130 characters.
 */

const TEMPLATES: readonly string[] = [
  'Card payment at {m}, {c}: {i}. Ref {r}',
  '{m} {c} purchase - {i} (receipt {r})',
  'Paid {m} in {c} for {i}, order {r}',
  '{i} from {m}, {c}. Transaction {r}',
  'Purchase of {i} at {m} ({c}) ref {r}',
  '{m} / {c} / {i} / auth {r}',
  'Bought {i} at {m} in {c} - invoice {r}',
  'Receipt {r}: {i} at {m}, {c}',
  'POS {r} {m} {c} {i}',
  'Your order {r} with {m} ({c}): {i}',
  '{c}, {m}: {i} - confirmation {r}',
  'Settled with {m} of {c} for {i} #{r}',
  'Sale {r} at {m} {c}; basket {i}',
  '{i} via {m} ({c}), booking {r}',
  'Charge from {m}, {c} - {i}, slip {r}',
  'Thanks for shopping at {m} {c}! {i}. No. {r}',
];

// prettier-ignore
const MERCHANT_PREFIXES: readonly string[] = [
  'Green', 'Blue', 'Golden', 'Silver', 'Red', 'North', 'South', 'East', 'West', 'Urban',
  'Royal', 'Happy', 'Sunny', 'Maple', 'Oak', 'Cedar', 'River', 'Harbour', 'Summit', 'Metro',
  'Star', 'Pioneer', 'Liberty', 'Crown', 'Bright', 'Lucky', 'Swift', 'Prime', 'Grand', 'Little',
  'Corner', 'Central', 'Coastal', 'Alpine', 'Lakeside', 'Riverside', 'Hilltop', 'Evergreen',
  'Sunrise', 'Orchard', 'Granite', 'Willow', 'Copper', 'Falcon', 'Meadow', 'Beacon', 'Juniper',
  'Atlas', 'Horizon', 'Nimbus', 'Saffron', 'Thistle', 'Velvet', 'Zephyr', 'Amber', 'Birch',
  'Cobalt', 'Dune', 'Ember', 'Fern',
];

const MERCHANT_NOUNS: Readonly<Record<MerchantCategory, readonly string[]>> = {
  grocery: [
    'Market',
    'Grocer',
    'Foods',
    'Pantry',
    'Fresh',
    'Supermarket',
    'Larder',
    'Harvest',
    'Deli',
  ],
  travel: ['Air', 'Rail', 'Travel', 'Tours', 'Hotels', 'Voyages', 'Lodge', 'Airways', 'Cruises'],
  online: ['Shop', 'Store', 'Online', 'Digital', 'Direct', 'Outlet', 'Bazaar', 'Goods', 'Emporium'],
  fuel: [
    'Fuel',
    'Petrol',
    'Energy',
    'Gas',
    'Station',
    'Motors',
    'Garage',
    'Autopoint',
    'Forecourt',
  ],
  dining: [
    'Bistro',
    'Kitchen',
    'Cafe',
    'Diner',
    'Grill',
    'Trattoria',
    'Brasserie',
    'Canteen',
    'Eatery',
  ],
};

// prettier-ignore
const ITEMS: Readonly<Record<MerchantCategory, readonly string[]>> = {
  grocery: [
    'bread', 'milk', 'apples', 'coffee beans', 'pasta', 'cheese', 'eggs', 'tomatoes', 'rice',
    'olive oil', 'yoghurt', 'bananas', 'cereal', 'chicken', 'salad', 'butter', 'orange juice',
    'tea', 'chocolate', 'flour', 'potatoes', 'carrots', 'honey', 'sparkling water', 'lentils',
    'spinach', 'grapes', 'mustard', 'oat milk', 'peppers', 'sea salt', 'walnuts', 'basil', 'lemons',
  ],
  travel: [
    'train ticket', 'flight', 'hotel night', 'car rental', 'airport shuttle', 'baggage fee',
    'ferry crossing', 'seat upgrade', 'travel insurance', 'city pass', 'bus pass',
    'museum entry', 'taxi ride', 'hostel bed', 'lounge access', 'parking', 'guided tour',
    'cabin upgrade', 'visa fee', 'ski pass', 'boat trip', 'sleeper berth', 'late checkout',
    'camping pitch', 'tram card',
  ],
  online: [
    'phone case', 'headphones', 'ebook', 'streaming plan', 'usb cable', 'game credits',
    'cloud storage', 'keyboard', 'running shoes', 'backpack', 'printer ink', 'desk lamp',
    'vitamins', 'phone charger', 'app subscription', 'board game', 'water bottle', 'yoga mat',
    'webcam', 'jigsaw puzzle', 'sunglasses', 'bike light', 'garden hose', 'coffee grinder',
    'wall clock', 'paint set',
  ],
  fuel: [
    'diesel', 'unleaded', 'car wash', 'screen wash', 'motor oil', 'snacks', 'coffee',
    'air freshener', 'tyre check', 'lpg refill', 'sandwich', 'road map', 'ice scraper',
    'premium diesel', 'wiper blades', 'antifreeze', 'jump leads', 'charging session', 'newspaper',
    'bottled water', 'bulb kit',
  ],
  dining: [
    'lunch menu', 'dinner for two', 'pizza', 'sushi set', 'burger', 'brunch', 'coffee and cake',
    'ramen', 'tapas', 'curry', 'salad bowl', 'noodles', 'tasting menu', 'kebab', 'breakfast',
    'dessert', 'soup of the day', 'lemonade', 'risotto', 'dumplings', 'paella', 'tacos',
    'fish and chips', 'pancakes', 'espresso', 'falafel wrap',
  ],
};

/** Phrases the fraud model reacts to; a memo carrying one is "risky". */
export const RISKY_PHRASES: readonly string[] = [
  'gift card',
  'crypto top-up',
  'prepaid voucher',
  'wire transfer',
  'bitcoin',
  'urgent reload',
];

const REF_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

function reference(rng: Rng): string {
  if (rng.bernoulli(0.5)) return String(rng.int(100_000, 1_000_000));
  let s = '';
  for (let i = 0; i < 4; i += 1) s += REF_LETTERS[rng.int(0, REF_LETTERS.length)];
  return `${s}-${rng.int(1000, 10_000)}`;
}

function joinItems(items: readonly string[]): string {
  if (items.length === 1) return items[0];
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A memo for a purchase in `category` in `city`; with a risky phrase among the items when `risky`. */
export function makeMemo(
  rng: Rng,
  category: MerchantCategory,
  city: string,
  risky: boolean,
): string {
  const merchant = `${rng.choice(MERCHANT_PREFIXES)} ${rng.choice(MERCHANT_NOUNS[category])}`;
  const pool = ITEMS[category];
  const count = rng.int(2, 5);
  const items: string[] = [];
  while (items.length < count) {
    const item = rng.choice(pool);
    if (!items.includes(item)) items.push(item);
  }
  if (risky) items[rng.int(0, items.length)] = rng.choice(RISKY_PHRASES);
  return rng
    .choice(TEMPLATES)
    .replace('{m}', merchant)
    .replace('{c}', city)
    .replace('{i}', joinItems(items))
    .replace('{r}', reference(rng));
}

/** Whether a memo contains one of the {@link RISKY_PHRASES} (case-insensitive). */
export function isRiskyMemo(memo: string): boolean {
  const lower = memo.toLowerCase();
  return RISKY_PHRASES.some((p) => lower.includes(p));
}

// --- Near-duplicate edits ---------------------------------------------------------------------

export const MEMO_EDITS = [
  'typo',
  'word_replaced',
  'word_added',
  'word_removed',
  'case',
  'punctuation',
] as const;
export type MemoEdit = (typeof MEMO_EDITS)[number];

/** How often each edit is chosen for a near duplicate. */
const EDIT_WEIGHTS: Readonly<Record<MemoEdit, number>> = {
  typo: 0.3,
  word_replaced: 0.2,
  word_added: 0.15,
  word_removed: 0.15,
  case: 0.1,
  punctuation: 0.1,
};

/** No near-duplicate memo is further than this (Levenshtein) from its original. */
export const MAX_NEAR_DUPLICATE_DISTANCE = 16;

// prettier-ignore
const REPLACEMENT_WORDS: readonly string[] = [
  'fresh', 'large', 'small', 'weekly', 'special', 'local', 'family', 'express', 'classic',
  'premium', 'daily', 'quick', 'extra', 'mini',
];

// prettier-ignore
const ADDED_WORDS: readonly string[] = [
  'today', 'thanks', 'again', 'please', 'online', 'new', 'paid', 'ok', 'copy', 'resent',
];

const PUNCTUATION = [',', '.', '!', ';', ':'];
const LOWER = 'abcdefghijklmnopqrstuvwxyz';

interface Span {
  start: number;
  end: number;
}

function spans(text: string, pattern: RegExp): Span[] {
  const out: Span[] = [];
  for (const m of text.matchAll(pattern)) out.push({ start: m.index, end: m.index + m[0].length });
  return out;
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

function otherLetter(rng: Rng, c: string): string {
  let l = c;
  while (l.toLowerCase() === c.toLowerCase()) l = LOWER[rng.int(0, LOWER.length)]!;
  return c === c.toUpperCase() ? l.toUpperCase() : l;
}

function applyEdit(rng: Rng, memo: string, edit: MemoEdit): string | undefined {
  switch (edit) {
    case 'typo': {
      const words = spans(memo, /[A-Za-z]{4,}/g);
      if (words.length === 0) return undefined;
      const w = rng.choice(words);
      const pos = rng.int(w.start, w.end);
      const op = rng.int(0, 4);
      if (op === 0) return splice(memo, pos, pos + 1, otherLetter(rng, memo[pos]));
      if (op === 1) return splice(memo, pos, pos + 1, '');
      if (op === 2) return splice(memo, pos, pos, LOWER[rng.int(0, LOWER.length)]);
      const at = Math.min(pos, w.end - 2);
      return splice(memo, at, at + 2, memo[at + 1] + memo[at]);
    }
    case 'word_replaced': {
      const words = spans(memo, /[A-Za-z]{3,}/g);
      if (words.length === 0) return undefined;
      const w = rng.choice(words);
      return splice(memo, w.start, w.end, rng.choice(REPLACEMENT_WORDS));
    }
    case 'word_added': {
      const gaps = spans(memo, / /g);
      if (gaps.length === 0) return undefined;
      const g = rng.choice(gaps);
      return splice(memo, g.start, g.end, ` ${rng.choice(ADDED_WORDS)} `);
    }
    case 'word_removed': {
      const tokens = spans(memo, /\S+/g);
      if (tokens.length < 4) return undefined;
      const k = rng.int(1, tokens.length);
      // The token and the space before it.
      return splice(memo, tokens[k - 1].end, tokens[k].end, '');
    }
    case 'case': {
      const words = spans(memo, /[A-Za-z]{3,}/g);
      if (words.length === 0) return undefined;
      const w = rng.choice(words);
      const word = memo.slice(w.start, w.end);
      const variants = [
        word.toUpperCase(),
        word.toLowerCase(),
        word[0].toUpperCase() + word.slice(1).toLowerCase(),
      ].filter((v) => v !== word);
      return splice(memo, w.start, w.end, rng.choice(variants));
    }
    case 'punctuation': {
      const marks = spans(memo, /[,.!;:]/g);
      const op = marks.length === 0 ? 0 : rng.int(0, 3);
      if (op === 0) {
        const ends = spans(memo, /[A-Za-z0-9](?= |$)/g);
        const e = rng.choice(ends);
        return splice(memo, e.end, e.end, rng.choice(PUNCTUATION));
      }
      const m = rng.choice(marks);
      if (op === 1) return splice(memo, m.start, m.end, '');
      const current = memo[m.start];
      return splice(memo, m.start, m.end, rng.choice(PUNCTUATION.filter((p) => p !== current)));
    }
  }
}

/**
 * A small edit of `memo`: different from it, at most {@link MAX_NEAR_DUPLICATE_DISTANCE} away,
 * and no more risky than it was (the fraud features stay those of the original).
 */
export function nearDuplicateMemo(
  rng: Rng,
  memo: string,
): { memo: string; edit: MemoEdit; distance: number } {
  const edits = MEMO_EDITS.slice();
  const weights = edits.map((e) => EDIT_WEIGHTS[e]);
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const edit = rng.choice(edits, weights);
    const edited = applyEdit(rng, memo, edit);
    if (edited === undefined || edited === memo) continue;
    if (isRiskyMemo(edited) !== isRiskyMemo(memo)) continue;
    const distance = editDistance(memo, edited);
    if (distance > 0 && distance <= MAX_NEAR_DUPLICATE_DISTANCE) {
      return { memo: edited, edit, distance };
    }
  }
  // Every memo ends in a reference; one more character there is always a valid edit.
  const edited = `${memo}.`;
  return { memo: edited, edit: 'punctuation', distance: 1 };
}

/** Levenshtein distance (insertions, deletions, substitutions; UTF-16 code units). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Array<number>(b.length + 1);
  let curr = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j += 1) prev[j] = j;
  for (let i = 1; i <= a.length; i += 1) {
    curr[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j += 1) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      curr[j] = Math.min(prev[j] + 1, curr[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, curr] = [curr, prev];
  }
  return prev[b.length];
}
