import { describe, expect, it } from 'vitest';
import { Joiner, type PendingLabel, type PendingPrediction } from './joiner';

const H = 3600_000;
const pred = (o: Partial<PendingPrediction>): PendingPrediction => ({
  version: 'm@1',
  dataset: 'cards',
  requestId: 'r1',
  row: 0,
  entityId: 'e1',
  at: 1000,
  until: 1000 + H,
  score: 0.9,
  ...o,
});
const label = (o: Partial<PendingLabel>): PendingLabel => ({
  dataset: 'cards',
  entityId: 'e1',
  requestId: null,
  label: 1,
  at: 2000,
  until: 2000 + H,
  ...o,
});

describe('Joiner', () => {
  it('joins by request id every version that scored the row of that entity', () => {
    const j = new Joiner(1000);
    j.addPrediction(pred({ version: 'm@1', requestId: 'r1', row: 0, entityId: 'a' }));
    j.addPrediction(pred({ version: 'm@1', requestId: 'r1', row: 1, entityId: 'b' }));
    j.addPrediction(pred({ version: 'm@2', requestId: 'r1', row: 1, entityId: 'b' }));
    const joined = j.addLabel(label({ requestId: 'r1', entityId: 'b', label: 0 }));
    expect(joined.map((x) => [x.prediction.version, x.prediction.row, x.label])).toEqual([
      ['m@1', 1, 0],
      ['m@2', 1, 0],
    ]);
    expect(j.pendingPredictions).toBe(1);
  });

  it('joins a one-row request without entity id by request id alone', () => {
    const j = new Joiner(1000);
    j.addPrediction(pred({ requestId: 'r9', entityId: null }));
    expect(j.addLabel(label({ requestId: 'r9', entityId: 'x' }))).toHaveLength(1);
  });

  it('without request id, labels the latest prediction of the entity per version, once', () => {
    const j = new Joiner(1000);
    j.addPrediction(pred({ requestId: 'old', at: 1000, score: 0.1 }));
    j.addPrediction(pred({ requestId: 'new', at: 1500, score: 0.7 }));
    const joined = j.addLabel(label({}));
    expect(joined.map((x) => x.prediction.requestId)).toEqual(['new']);
    // The older one is no longer the entity's latest: a second label finds nothing.
    expect(j.addLabel(label({ at: 2500 }))).toEqual([]);
  });

  it('a label that came first joins a prediction made before it, not a later one', () => {
    const j = new Joiner(1000);
    expect(j.addLabel(label({ at: 5000 }))).toEqual([]);
    expect(j.addPrediction(pred({ at: 4000 }))).toHaveLength(1);
    expect(j.addPrediction(pred({ at: 6000, requestId: 'later' }))).toEqual([]);
    expect(j.pendingPredictions).toBe(1);
  });

  it('expires what waited past its join window, and evicts the oldest beyond the bound', () => {
    const j = new Joiner(2);
    j.addPrediction(pred({ requestId: 'a', entityId: 'a', at: 0, until: 100 }));
    j.addPrediction(pred({ requestId: 'b', entityId: 'b', at: 50, until: 150 }));
    j.addPrediction(pred({ requestId: 'c', entityId: 'c', at: 120, until: 220 }));
    expect(j.expiredPredictions).toBe(1);
    j.addPrediction(pred({ requestId: 'd', entityId: 'd', at: 130, until: 230 }));
    expect(j.evicted).toBe(1);
    expect(j.pendingPredictions).toBe(2);
    expect(j.addLabel(label({ entityId: 'b', at: 140 }))).toEqual([]);
    expect(j.addLabel(label({ entityId: 'd', at: 140 }))).toHaveLength(1);
  });

  it('survives a round trip through its state', () => {
    const j = new Joiner(1000);
    j.addPrediction(pred({ requestId: 'r1', entityId: 'a' }));
    j.addLabel(label({ entityId: 'zz', at: 1200 }));
    const k = new Joiner(1000, JSON.parse(JSON.stringify(j.state())) as ReturnType<typeof j.state>);
    expect(k.pendingPredictions).toBe(1);
    expect(k.pendingLabels).toBe(1);
    expect(k.addLabel(label({ requestId: 'r1', entityId: 'a' }))).toHaveLength(1);
  });
});
