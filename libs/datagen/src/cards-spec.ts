import type { DatasetSpecInput } from '@mlops/contracts';

/**
 * The card-transaction dataset the generator produces: its field values and its dataset spec.
 * `examples/specs/cards.json` is this spec as a file (cards-spec.spec.ts keeps the two equal).
 */

export const MERCHANT_CATEGORIES = ['grocery', 'travel', 'online', 'fuel', 'dining'] as const;
export type MerchantCategory = (typeof MERCHANT_CATEGORIES)[number];

export const DEVICES = ['mobile', 'web', 'pos'] as const;
export type Device = (typeof DEVICES)[number];

/** The record fields in spec order (also the CSV column order). */
export const CARD_FIELDS = [
  'card_id',
  'amount',
  'hour',
  'merchant_category',
  'country',
  'device',
  'memo',
  'ts',
  'is_fraud',
] as const;
export type CardField = (typeof CARD_FIELDS)[number];

/**
 * One generated transaction. A field the spec makes nullable (amount, device, memo) may be null
 * or absent in a record carrying a `missing` defect; so may any field listed in the generator's
 * `missingFields` option, which is why every field but `card_id` and `ts` is optional here.
 */
export interface CardRecord {
  /** The entity: `card-00042`. */
  card_id: string;
  /** Currency units with two decimals; lognormal per merchant category. */
  amount?: number | null;
  /** Local hour at the merchant, 0–23 (not the hour of `ts`, which is UTC). */
  hour?: number | null;
  merchant_category?: MerchantCategory | null;
  /** ISO 3166-1 alpha-2. */
  country?: string | null;
  device?: Device | null;
  /** Free text: merchant, city, items, a reference. */
  memo?: string | null;
  /** ISO 8601 UTC with milliseconds, increasing along the stream (an exact duplicate repeats its original's). */
  ts: string;
  /** 1 for fraud. */
  is_fraud?: 0 | 1 | null;
}

/**
 * The dataset spec of the generated records, as a user writes it (parse it with
 * `DatasetSpec.parse`). Nullable: `amount` (so missing amounts reach data quality and are
 * imputed rather than rejected at ingestion), `device`, `memo`; the label is optional as labels
 * are.
 */
export function cardsSpec(name = 'cards', version = 1): DatasetSpecInput {
  return {
    name,
    version,
    description: 'Card transactions: one record per authorisation.',
    fields: [
      { name: 'card_id', type: 'entity_id' },
      { name: 'amount', type: 'numeric', min: 0, max: 1_000_000 },
      { name: 'hour', type: 'numeric', required: true, min: 0, max: 23, integer: true },
      {
        name: 'merchant_category',
        type: 'categorical',
        required: true,
        enum: [...MERCHANT_CATEGORIES],
      },
      { name: 'country', type: 'categorical', required: true },
      { name: 'device', type: 'categorical', enum: [...DEVICES] },
      { name: 'memo', type: 'text', maxLength: 500 },
      { name: 'ts', type: 'timestamp', required: true },
      { name: 'is_fraud', type: 'label', task: 'binary' },
    ],
    unknownFields: 'reject',
    // Tuned on 50,000 generated records (services/data-quality/src/rules/acceptance.spec.ts
    // gives the reasons and the figures): memos are short, so one typo moves their SimHash by
    // more than 3 bits for over half the copies — a wider Hamming radius, with the edit-distance
    // check for precision; amounts are lognormal, so their outliers are scored on ln(1 + x).
    quality: {
      nearDuplicates: { maxHamming: 10, window: { count: 2000 } },
      outliers: { transform: { amount: 'log' }, zThreshold: 5.5 },
    },
  };
}

/** Fields that `missing` defects blank by default: the nullable feature fields of {@link cardsSpec}. */
export const DEFAULT_MISSING_FIELDS = ['amount', 'device', 'memo'] as const;

/** Fields a `missing` defect may blank (any but the entity and the timestamp). */
export const BLANKABLE_FIELDS = [
  'amount',
  'hour',
  'merchant_category',
  'country',
  'device',
  'memo',
  'is_fraud',
] as const;
export type BlankableField = (typeof BLANKABLE_FIELDS)[number];
