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
  // Services of one stack start together and race to create the same topics. The losers see
  // "already exists", and a topic another process created a moment ago is listed before its
  // leaders are elected: until they are, metadata requests that name it fail (retriably). So:
  // list, create what is missing, wait for every leader — again from the top on a retriable
  // error, for up to a minute.
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
      await waitForLeaders(
        admin,
        wanted.map((t) => t.topic),
      );
      return;
    } catch (err) {
      if (!retriableTopicError(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)));
    }
  }
}

/** Errors of a topic being created elsewhere, or not led yet: worth another round. */
function retriableTopicError(err: unknown): boolean {
  const e = err as { retriable?: boolean; type?: string; errors?: unknown[]; message?: string };
  if (e.retriable === true) return true;
  if (e.type === 'TOPIC_ALREADY_EXISTS' || e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
  // createTopics reports per topic in an aggregate error.
  if (Array.isArray(e.errors) && e.errors.length > 0) return e.errors.every(retriableTopicError);
  return /already exists|does not host this topic-partition|no leader/i.test(e.message ?? '');
}

/**
 * Resolves once every partition of `topics` has a leader: a topic another process created a
 * moment ago answers "does not host this topic-partition" until then.
 */
export async function waitForLeaders(
  admin: Admin,
  topics: string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const led = await admin
      .fetchTopicMetadata({ topics })
      .then((m) =>
        m.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)),
      )
      .catch(() => false);
    if (led) return;
    if (Date.now() > deadline)
      throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
