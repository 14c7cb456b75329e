import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPICS } from '@mlops/contracts';
import {
  kafkaTopicsYaml,
  ManifestValidator,
  parseObjects,
  REPO_ROOT,
  render,
  schemaPath,
  type K8sObject,
} from './manifests';

describe('k8s manifests, offline', () => {
  const validator = new ManifestValidator();

  it('maps kinds to the vendored schemas as kubeconform names them', () => {
    const rel = (p: string) => path.relative(path.join(REPO_ROOT, 'k8s', 'schemas'), p);
    expect(rel(schemaPath('apps/v1', 'Deployment'))).toBe('k8s-v1.33/deployment-apps-v1.json');
    expect(rel(schemaPath('v1', 'Service'))).toBe('k8s-v1.33/service-v1.json');
    expect(rel(schemaPath('networking.k8s.io/v1', 'NetworkPolicy'))).toBe(
      'k8s-v1.33/networkpolicy-networking-v1.json',
    );
    expect(rel(schemaPath('autoscaling/v2', 'HorizontalPodAutoscaler'))).toBe(
      'k8s-v1.33/horizontalpodautoscaler-autoscaling-v2.json',
    );
    expect(rel(schemaPath('kafka.strimzi.io/v1', 'KafkaTopic'))).toBe(
      'crds/kafka.strimzi.io/kafkatopic_v1.json',
    );
  });

  it('rejects what the cluster would reject: wrong types, unknown keys, bad enums, missing fields', () => {
    const problems = validator.validate(
      parseObjects(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: bad-deploy }
spec:
  replicas: "two"
  selector: { matchLabels: { app: x } }
  template:
    metadata: { labels: { app: x } }
    spec:
      containers: [{ name: x, image: x, imagePullPolcy: Always }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: no-selector }
spec:
  template: { spec: { containers: [{ name: x, image: x }] } }
---
apiVersion: kafka.strimzi.io/v1
kind: KafkaTopic
metadata: { name: bad-topic }
spec: { partitions: "three", bogus: 1 }
---
apiVersion: kafka.strimzi.io/v1
kind: Kafka
metadata: { name: bad-kafka }
spec:
  kafka:
    listeners: [{ name: plain, port: 9092, type: internall, tls: false }]
---
apiVersion: example.com/v1
kind: Widget
metadata: { name: unknown }
`),
    );
    const by = (name: string) => problems.filter((p) => p.object === name).map((p) => p.message);
    expect(by('Deployment/bad-deploy').join('\n')).toMatch(/\/spec\/replicas must be integer/);
    expect(by('Deployment/bad-deploy').join('\n')).toMatch(/imagePullPolcy/);
    expect(by('Deployment/no-selector').join('\n')).toMatch(
      /must have required property 'selector'/,
    );
    expect(by('KafkaTopic/bad-topic').join('\n')).toMatch(/partitions must be integer/);
    expect(by('KafkaTopic/bad-topic').join('\n')).toMatch(/bogus/);
    expect(by('Kafka/bad-kafka').join('\n')).toMatch(/allowed values/);
    expect(by('Widget/unknown')).toEqual(['no vendored schema for example.com/v1 Widget']);
  });

  it('k8s/kafka renders, and every object validates against Kubernetes and Strimzi schemas', () => {
    const objects = render('k8s/kafka');
    expect(objects.filter((o) => o.kind === 'Kafka')).toHaveLength(1);
    expect(objects.filter((o) => o.kind === 'KafkaNodePool')).toHaveLength(1);
    expect(validator.validate(objects)).toEqual([]);
  });

  it('holds exactly one KafkaTopic per contract topic, with its partitions and compaction', () => {
    const topics = render('k8s/kafka').filter((o) => o.kind === 'KafkaTopic') as (K8sObject & {
      spec: { topicName: string; partitions: number; config: Record<string, string> };
    })[];
    const contract = Object.values(TOPICS);
    expect(topics.map((t) => t.spec.topicName).sort()).toEqual(contract.map((t) => t.name).sort());
    for (const def of contract) {
      const t = topics.find((x) => x.spec.topicName === def.name)!;
      expect(t.spec.partitions, def.name).toBe(def.partitions);
      expect(t.spec.config['cleanup.policy'], def.name).toBe(def.compacted ? 'compact' : 'delete');
      for (const [k, v] of Object.entries(def.configs ?? {})) expect(t.spec.config[k]).toBe(v);
      expect(t.metadata?.labels?.['strimzi.io/cluster']).toBe('mlops');
    }
  });

  it('k8s/kafka/topics.yaml is what `npm run k8s:topics` writes from the contracts today', () => {
    expect(readFileSync(path.join(REPO_ROOT, 'k8s/kafka/topics.yaml'), 'utf8')).toBe(
      kafkaTopicsYaml(),
    );
  });
});
