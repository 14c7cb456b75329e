import { describe, expect, it } from 'vitest';
import { DriftAlertEvent, EVENTS, FeedbackEvent } from './events';
import { TOPICS } from './topics';

describe('feedback.v1 and drift.alerts.v1 events', () => {
  it('sit on their contract topics; feedback may come from any client', () => {
    expect(TOPICS[EVENTS.feedback.topic].name).toBe('feedback.v1');
    expect(EVENTS.feedback.envelope).toBe('optional');
    expect(TOPICS[EVENTS.driftAlert.topic].name).toBe('drift.alerts.v1');
    expect(EVENTS.driftAlert.envelope).toBe('required');
  });

  it('takes a label by request id or by entity alone, and refuses an empty one', () => {
    const byRequest = {
      dataset: 'cards',
      entityId: 'card-7',
      requestId: 'req-1',
      label: 1,
      eventTime: '2026-11-26T01:00:00Z',
    };
    expect(FeedbackEvent.parse(byRequest)).toEqual(byRequest);
    const byEntity = { ...byRequest, requestId: null, label: 'fraud', eventTime: null };
    expect(FeedbackEvent.parse(byEntity)).toEqual(byEntity);
    expect(FeedbackEvent.safeParse({ ...byRequest, label: '' }).success).toBe(false);
    expect(FeedbackEvent.safeParse({ ...byRequest, dataset: 'Cards!' }).success).toBe(false);
  });

  it('carries an alert with its window and evidence, drifted defaulting to none', () => {
    const alert = {
      model: 'cards',
      version: 3,
      alias: 'production',
      dataset: 'cards',
      kind: 'feature',
      severity: 'warning',
      window: {
        kind: 'count',
        events: 1000,
        from: '2026-11-26T01:00:00Z',
        to: '2026-11-26T01:05:00Z',
      },
      summary: '2 of 12 features drifted (amount, hour)',
      evidence: { amount: { test: 'ks', pvalue: 1e-9 } },
      reportId: 'cards@3:1',
      at: '2026-11-26T01:05:01Z',
    };
    expect(DriftAlertEvent.parse(alert)).toEqual({ ...alert, drifted: [] });
    expect(DriftAlertEvent.safeParse({ ...alert, severity: 'fatal' }).success).toBe(false);
    expect(DriftAlertEvent.safeParse({ ...alert, version: 0 }).success).toBe(false);
  });
});
