// `npm run k8s:topics`: writes k8s/kafka/topics.yaml, one Strimzi KafkaTopic per contract topic.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { kafkaTopicsYaml, REPO_ROOT } from './manifests';

const file = path.join(REPO_ROOT, 'k8s', 'kafka', 'topics.yaml');
writeFileSync(file, kafkaTopicsYaml());
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
