import type { Admin } from 'kafkajs';

/**
 * Resolves once a consumer group has committed every partition of `topic` to its current end:
 * the stage has handled (and, for transactional stages, committed) everything written so far.
 */
export async function groupCaughtUp(
  admin: Admin,
  groupId: string,
  topic: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const behind = ends.filter((e) => {
      const c = committed.partitions.find((p) => p.partition === e.partition);
      const position = Number(c?.offset ?? -1);
      // A partition that ends with a transaction marker is done one offset early.
      return Number(e.high) > 0 && position < Number(e.high) - 1;
    });
    last = behind
      .map(
        (e) =>
          `${e.partition}: ${committed.partitions.find((p) => p.partition === e.partition)?.offset}/${e.high}`,
      )
      .join(', ');
    if (behind.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `group ${groupId} is still behind on ${topic} after ${timeoutMs} ms (${last})`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}
