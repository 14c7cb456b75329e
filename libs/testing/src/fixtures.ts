import { DatasetSpec } from '@mlops/contracts';

/** A card-transaction dataset spec used across tests. */
export function cardSpec(name = 'cards', version = 1): DatasetSpec {
  return DatasetSpec.parse({
    name,
    version,
    fields: [
      { name: 'card_id', type: 'entity_id' },
      { name: 'amount', type: 'numeric', required: true, min: 0, max: 1_000_000 },
      { name: 'hour', type: 'numeric', required: true, min: 0, max: 23, integer: true },
      {
        name: 'merchant_category',
        type: 'categorical',
        required: true,
        enum: ['grocery', 'travel', 'online', 'fuel', 'dining'],
      },
      { name: 'country', type: 'categorical', required: true },
      { name: 'memo', type: 'text', maxLength: 500 },
      { name: 'ts', type: 'timestamp', required: true },
      { name: 'is_fraud', type: 'label', task: 'binary' },
    ],
    unknownFields: 'reject',
  });
}

const CATEGORIES = ['grocery', 'travel', 'online', 'fuel', 'dining'];

/** A deterministic valid card record. */
export function cardRecord(i: number): Record<string, unknown> {
  return {
    card_id: `card-${i % 997}`,
    amount: Math.round(((i * 7919) % 100_000) + 1) / 100,
    hour: i % 24,
    merchant_category: CATEGORIES[i % CATEGORIES.length],
    country: ['FR', 'DE', 'US', 'JP'][i % 4],
    memo: `purchase ${i}`,
    ts: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    is_fraud: i % 50 === 0 ? 1 : 0,
  };
}

/** A record that breaks the spec, cycling through kinds of breakage; `reason` is the expected code. */
export function invalidCardRecord(i: number): { record: Record<string, unknown>; reason: string } {
  const r = cardRecord(i);
  switch (i % 4) {
    case 0:
      return { record: { ...r, amount: -5 }, reason: 'out_of_range' };
    case 1:
      return { record: { ...r, merchant_category: 'casino' }, reason: 'not_in_enum' };
    case 2: {
      const { ts: _ts, ...rest } = r;
      return { record: rest, reason: 'missing_required' };
    }
    default:
      return { record: { ...r, hour: 'noon' }, reason: 'wrong_type' };
  }
}
