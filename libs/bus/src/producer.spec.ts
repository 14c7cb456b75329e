import type { Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { groupByTopic } from './producer';

const m = (key: string): Message => ({ key, value: `v-${key}` });

describe('groupByTopic', () => {
  it('is empty for no records', () => {
    expect(groupByTopic([])).toEqual([]);
  });

  it('groups by topic in order of first appearance, keeping message order within a topic', () => {
    const grouped = groupByTopic([
      { topic: 'b', message: m('1') },
      { topic: 'a', message: m('2') },
      { topic: 'b', message: m('3') },
      { topic: 'c', message: m('4') },
      { topic: 'a', message: m('5') },
      { topic: 'b', message: m('6') },
    ]);
    expect(grouped).toEqual([
      { topic: 'b', messages: [m('1'), m('3'), m('6')] },
      { topic: 'a', messages: [m('2'), m('5')] },
      { topic: 'c', messages: [m('4')] },
    ]);
  });

  it('keeps the message objects themselves (no copies) and loses none', () => {
    const records = Array.from({ length: 100 }, (_, i) => ({
      topic: `t${i % 7}`,
      message: m(String(i)),
    }));
    const grouped = groupByTopic(records);
    expect(grouped.map((g) => g.topic)).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6']);
    expect(grouped.reduce((n, g) => n + g.messages.length, 0)).toBe(100);
    expect(grouped[3].messages[0]).toBe(records[3].message);
    expect(grouped[3].messages.map((x) => x.key)).toEqual([
      '3',
      '10',
      '17',
      '24',
      '31',
      '38',
      '45',
      '52',
      '59',
      '66',
      '73',
      '80',
      '87',
      '94',
    ]);
  });

  it('treats topic names case-sensitively and exactly', () => {
    const grouped = groupByTopic([
      { topic: 'Events', message: m('1') },
      { topic: 'events', message: m('2') },
      { topic: 'events ', message: m('3') },
    ]);
    expect(grouped.map((g) => [g.topic, g.messages.length])).toEqual([
      ['Events', 1],
      ['events', 1],
      ['events ', 1],
    ]);
  });
});
