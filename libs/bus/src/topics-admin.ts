import type { Admin, ITopicConfig } from 'kafkajs';
import { deadLetterTopicName, topicName, TOPICS, type TopicKey } from '@mlops/contracts';

export interface ExtraTopic {
  /** Physical name (prefix included). */
  name: string;
  partitions: number;
  compacted: boolean;
}

/**
 * Creates the topics a service uses, with the settings of the contract (partitions, compaction),
 * and leaves existing ones as they are. Replication comes from the broker's default, so the
 * same code serves a one-node local broker and a three-node cluster.
 */
export async function ensureTopics(
  admin: Admin,
  prefix: string,
  keys: readonly TopicKey[],
  options: { dlqFor?: readonly TopicKey[]; extra?: readonly ExtraTopic[] } = {},
): Promise<void> {
  const wanted: ITopicConfig[] = [];
  const config = (compacted: boolean, extra: Readonly<Record<string, string>> = {}) => {
    const entries = new Map<string, string>([
      ['cleanup.policy', compacted ? 'compact' : 'delete'],
      // Large enough for a dead letter that carries a 2 MB original.
      ['max.message.bytes', String(4 * 1024 * 1024)],
      ...Object.entries(extra),
    ]);
    return [...entries].map(([name, value]) => ({ name, value }));
  };
  for (const key of new Set(keys)) {
    const def = TOPICS[key];
    wanted.push({
      topic: topicName(key, prefix),
      numPartitions: def.partitions,
      configEntries: config(def.compacted, def.configs),
    });
  }
  for (const key of new Set(options.dlqFor ?? [])) {
    wanted.push({
      topic: deadLetterTopicName(topicName(key, prefix)),
      numPartitions: 1,
      configEntries: config(false),
    });
  }
  for (const t of options.extra ?? []) {
    wanted.push({ topic: t.name, numPartitions: t.partitions, configEntries: config(t.compacted) });
  }
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return;
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (err) {
    // Another instance may have created them between our list and create.
    const again = new Set(await admin.listTopics());
    if (missing.some((t) => !again.has(t.topic))) throw err;
  }
}
