import { describe, expect, it } from 'vitest';
import type { CardRecord } from './cards-spec';
import { CARD_FIELDS } from './cards-spec';
import { toCloudEvents, toCsv, toNdjson } from './format';
import { generateCards } from './generate';

const record = (over: Partial<CardRecord> = {}): CardRecord => ({
  card_id: 'card-00001',
  amount: 12.5,
  hour: 3,
  merchant_category: 'online',
  country: 'FR',
  device: 'web',
  memo: 'plain memo',
  ts: '2026-01-01T00:00:00.000Z',
  is_fraud: 0,
  ...over,
});

describe('toNdjson', () => {
  it('writes one JSON object per line that parses back to the records', () => {
    const { records } = generateCards({ n: 500, seed: 1, missingRate: 0.2 });
    const text = toNdjson(records);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(500);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(records);
  });

  it('writes nothing for no rows', () => {
    expect(toNdjson([])).toBe('');
  });
});

describe('toCsv', () => {
  it('writes a header in spec order and one row per record', () => {
    const csv = toCsv([record()]);
    expect(csv).toBe(
      `${CARD_FIELDS.join(',')}\ncard-00001,12.5,3,online,FR,web,plain memo,2026-01-01T00:00:00.000Z,0\n`,
    );
  });

  it('quotes cells with commas, quotes or line breaks, and leaves null and absent empty', () => {
    const absent = record();
    delete absent.device;
    const csv = toCsv([
      record({ memo: 'Paid "Cafe", Lyon', amount: null }),
      record({ memo: 'two\nlines' }),
      absent,
    ]);
    const lines = csv.split('\n');
    expect(lines[1]).toBe(
      'card-00001,,3,online,FR,web,"Paid ""Cafe"", Lyon",2026-01-01T00:00:00.000Z,0',
    );
    expect(lines[2]).toBe('card-00001,12.5,3,online,FR,web,"two');
    expect(lines[3]).toBe('lines",2026-01-01T00:00:00.000Z,0');
    expect(lines[4]).toBe('card-00001,12.5,3,online,FR,,plain memo,2026-01-01T00:00:00.000Z,0');
  });

  it('has as many rows as records on generated data (memos hold commas)', () => {
    const { records } = generateCards({ n: 1000, seed: 2 });
    const csv = toCsv(records);
    // Generated memos have no quotes or line breaks, so each record is one line.
    expect(csv.trimEnd().split('\n')).toHaveLength(1001);
    expect(csv).toContain('"');
  });

  it('takes other columns', () => {
    expect(toCsv([record()], ['amount', 'card_id'])).toBe('amount,card_id\n12.5,card-00001\n');
  });
});

describe('toCloudEvents', () => {
  it('wraps each record with its id, the record ts as time', () => {
    const { records, ids } = generateCards({ n: 100, seed: 3, duplicateIdRate: 0.1 });
    const events = toCloudEvents(records, ids, { source: '/test' });
    expect(events[5]).toEqual({
      specversion: '1.0',
      id: ids[5],
      source: '/test',
      type: 'dev.mlops.datagen.card.v1',
      subject: 'cards',
      datacontenttype: 'application/json',
      data: records[5],
      time: records[5].ts,
    });
    expect(events.map((e) => e.id)).toEqual(ids);
    expect(() => toCloudEvents(records, ids.slice(1))).toThrow(RangeError);
  });
});
