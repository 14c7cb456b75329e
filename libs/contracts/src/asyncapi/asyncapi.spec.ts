import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { EVENTS } from '../events';
import { TOPICS } from '../topics';
import { renderAsyncApi } from './generate';
import { ASYNCAPI_PATH, contractsVersion } from './location';

describe('AsyncAPI document', () => {
  it('is up to date with the schemas (run `npm run asyncapi` when this fails)', () => {
    const committed = readFileSync(ASYNCAPI_PATH, 'utf8');
    expect(committed).toBe(renderAsyncApi(contractsVersion()));
  });

  it('has a channel per topic and a message per event type', () => {
    const doc = parse(renderAsyncApi('0.0.0')) as {
      channels: Record<
        string,
        { address: string; bindings: { kafka: { topicConfiguration: Record<string, string[]> } } }
      >;
      components: { messages: Record<string, { name: string; payload: { type: string } }> };
    };
    expect(
      Object.values(doc.channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual(
      Object.values(TOPICS)
        .map((t) => t.name)
        .sort(),
    );
    expect(
      Object.values(doc.components.messages)
        .map((m) => m.name)
        .sort(),
    ).toEqual(
      Object.values(EVENTS)
        .map((e) => e.type)
        .sort(),
    );
    expect(doc.channels.pipelineSpecs.bindings.kafka.topicConfiguration['cleanup.policy']).toEqual([
      'compact',
    ]);
    expect(doc.components.messages.ValidatedEvent.payload.type).toBe('object');
  });
});
