import { readFileSync } from 'node:fs';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { CE_SPEC_VERSION, DatasetSpec, EVENTS, JSON_CONTENT_TYPE, newEventId, toKafkaHeaders, topicName } from '@mlops/contracts';

/**
 * Publishes a dataset spec file onto the compacted `pipeline.specs.v1`, where every service
 * reads it. (The model registry takes this over with versioning and its REST API.)
 *
 *   npm run spec:publish -- examples/specs/cards.json
 */
async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: npm run spec:publish -- <spec.json>');
  const parsed = DatasetSpec.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${file} is not a valid dataset spec:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const spec = parsed.data;
  const prefix = process.env.KAFKA_TOPIC_PREFIX ?? '';
  const kafka = new Kafka({ clientId: 'spec-publisher', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  const topic = topicName('pipelineSpecs', prefix);
  if (!(await admin.listTopics()).includes(topic)) {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
  }
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const headers = toKafkaHeaders({ id: newEventId(), type: EVENTS.datasetSpec.type, source: '/cli/spec-publish', time: new Date().toISOString(), specversion: CE_SPEC_VERSION, datacontenttype: JSON_CONTENT_TYPE, subject: spec.name });
  await producer.send({ topic, acks: -1, messages: [{ key: spec.name, value: JSON.stringify(spec), headers }] });
  await producer.disconnect();
  process.stdout.write(`published ${spec.name} v${spec.version} to ${topic}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
