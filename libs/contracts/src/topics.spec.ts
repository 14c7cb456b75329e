import { describe, expect, it } from 'vitest';
import {
  SERVICES,
  TOPICS,
  TOPIC_KEYS,
  assertTopicPrefix,
  deadLetterTopicName,
  entityKey,
  topicName,
} from './topics';

const definitions = Object.values(TOPICS);

describe('TOPICS', () => {
  it('has unique names, each ending in a version suffix .vN', () => {
    const names = definitions.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/\.v[1-9]\d*$/);
  });

  it('holds the topics of DESIGN.md under their contract names', () => {
    expect(definitions.map((t) => t.name).sort()).toEqual([
      'data-quality.state.changelog.v1',
      'drift-monitor.state.changelog.v1',
      'drift.alerts.v1',
      'events.clean.v1',
      'events.rejected.v1',
      'events.validated.v1',
      'features.v1',
      'featuresets.v1',
      'feedback.v1',
      'ingest.raw.v1',
      'models.compressed.v1',
      'models.decisions.v1',
      'models.lifecycle.v1',
      'models.trained.v1',
      'pipeline.specs.v1',
      'predictions.v1',
      'quality.reports.v1',
      'training.datasets.v1',
      'training.jobs.v1',
      'training.requests.v1',
    ]);
  });

  it('compacts exactly the specs, the model lifecycle, the featuresets, the two state changelogs and the training jobs', () => {
    expect(
      definitions
        .filter((t) => t.compacted)
        .map((t) => t.name)
        .sort(),
    ).toEqual([
      'data-quality.state.changelog.v1',
      'drift-monitor.state.changelog.v1',
      'featuresets.v1',
      'models.lifecycle.v1',
      'pipeline.specs.v1',
      'training.jobs.v1',
    ]);
  });

  it('keys record topics by dataset:entityId and control topics by dataset or model', () => {
    expect(TOPICS.eventsValidated.key).toBe('dataset:entityId');
    expect(TOPICS.eventsClean.key).toBe('dataset:entityId');
    expect(TOPICS.pipelineSpecs.key).toBe('dataset');
    expect(TOPICS.modelsLifecycle.key).toBe('model');
    expect(TOPICS.eventsRejected.key).toBe('dataset:eventId');
  });

  it('names only known services as producers and consumers, and has positive partition counts', () => {
    const services = new Set<string>(SERVICES);
    for (const t of definitions) {
      for (const s of [...t.producers, ...t.consumers])
        expect(services.has(s), `${t.name}: ${s}`).toBe(true);
      expect(Number.isInteger(t.partitions) && t.partitions > 0, t.name).toBe(true);
    }
  });

  it('is frozen: a definition cannot be changed at run time', () => {
    expect(Object.isFrozen(TOPICS.pipelineSpecs)).toBe(true);
    expect(() => {
      (TOPICS.pipelineSpecs as { name: string }).name = 'renamed.v1';
    }).toThrow(TypeError);
    expect(TOPICS.pipelineSpecs.name).toBe('pipeline.specs.v1');
  });

  it('lists every key in TOPIC_KEYS', () => {
    expect(TOPIC_KEYS).toEqual(Object.keys(TOPICS));
    expect(TOPIC_KEYS).toHaveLength(20);
  });
});

describe('topic names', () => {
  it('prefixes physical names', () => {
    expect(topicName('eventsValidated')).toBe('events.validated.v1');
    expect(topicName('eventsValidated', 'prod.')).toBe('prod.events.validated.v1');
    expect(deadLetterTopicName('prod.models.trained.v1')).toBe('prod.models.trained.v1.dlq');
  });

  it.each(['', 'prod.', 't-abc_1.', 'A.b-C_9', 'x'.repeat(60)])(
    'accepts the prefix %j',
    (prefix) => {
      expect(assertTopicPrefix(prefix)).toBe(prefix);
    },
  );

  it.each(['pro d.', 'prod/', 'prod:', 'préfixe', 'x'.repeat(61), 'a*'])(
    'refuses the prefix %j',
    (prefix) => {
      expect(() => assertTopicPrefix(prefix)).toThrow(
        `topic prefix "${prefix}" may only hold letters, digits, ".", "_" and "-" (60 at most)`,
      );
    },
  );

  it('builds entity keys as dataset:entityId', () => {
    expect(entityKey('cards', 'card-7')).toBe('cards:card-7');
    expect(entityKey('cards', '')).toBe('cards:');
    expect(entityKey('cards', 'a:b')).toBe('cards:a:b');
  });
});
