import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPICS } from '@mlops/contracts';
import { TrialEnv } from '../../services/trainer/src/trial';
import { ManifestValidator, parseObjects, render, REPO_ROOT, type K8sObject } from './manifests';
import { PolicyModel, type Namespace, type Pod } from './network-policy';
import {
  find,
  HEALTH_ROUTES,
  partitionsOf,
  PLATFORM_SERVICES,
  portNumber,
  resolveEnv,
  schemaKeys,
  TEST_SECRETS,
  type Container,
  type Deployment,
} from './workloads';

/**
 * The rendered manifests against the code: every composition users apply renders and
 * validates; each Deployment sets only what its service's config schema knows and the schema
 * accepts what it sets; probes and Services point at the port the service listens on and at
 * routes it serves; scaling matches what the topics allow; the network policies allow exactly
 * the calls the services make. test/k8s-parity.e2e.spec.ts then starts each service with its
 * rendered environment.
 */

const OVERLAYS = ['k8s/base', 'k8s/overlays/local', 'k8s/overlays/production'] as const;
const rendered = new Map(OVERLAYS.map((dir) => [dir, render(dir)]));
const validator = new ManifestValidator();

function deployment(objects: readonly K8sObject[], name: string): Deployment {
  const d = find<Deployment>(objects, 'Deployment', name);
  if (!d) throw new Error(`no Deployment ${name}`);
  return d;
}
function container(d: Deployment): Container {
  const name = d.metadata!.name!;
  const c = d.spec.template.spec.containers.find((x) => x.name === name);
  if (!c) throw new Error(`Deployment ${name} has no container named ${name}`);
  return c;
}
function ofKind<T extends K8sObject>(objects: readonly K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

describe.each(OVERLAYS)('%s', (dir) => {
  const objects = rendered.get(dir)!;

  it('renders, and every object validates against the vendored schemas; no Secret is committed', () => {
    expect(objects.length).toBeGreaterThan(50);
    expect(validator.validate(objects)).toEqual([]);
    expect(ofKind(objects, 'Secret')).toEqual([]);
    for (const o of objects)
      if (o.kind !== 'Namespace')
        expect(o.metadata?.namespace, `${o.kind}/${o.metadata?.name}`).toBe('mlops');
  });

  it('runs the eight services, each with its ServiceAccount, ConfigMap, Deployment and Service', () => {
    for (const s of PLATFORM_SERVICES) {
      for (const kind of ['ServiceAccount', 'ConfigMap', 'Deployment', 'Service'])
        expect(find(objects, kind, s.name), `${kind}/${s.name}`).toBeDefined();
      const d = deployment(objects, s.name);
      const c = container(d);
      expect(c.args).toEqual([s.name]);
      expect(d.spec.template.spec.containers).toHaveLength(1);
      expect((d.spec.template.spec as { serviceAccountName?: string }).serviceAccountName).toBe(
        s.name,
      );
      expect(d.spec.template.metadata?.labels?.['app.kubernetes.io/name']).toBe(s.name);
    }
  });

  it.each(PLATFORM_SERVICES.map((s) => [s.name, s] as const))(
    '%s: sets only variables its config schema knows, and the schema accepts the environment',
    (_name, s) => {
      const { env, names, problems } = resolveEnv(
        objects,
        container(deployment(objects, s.name)),
        TEST_SECRETS,
      );
      expect(problems).toEqual([]);
      const known = new Set(schemaKeys(s.schema));
      expect(names.filter((n) => !known.has(n))).toEqual([]);
      expect(new Set(names).size, 'a variable set twice').toBe(names.length);
      const parsed = s.schema.safeParse(env);
      expect(
        parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      ).toEqual([]);
      const config = parsed.data as {
        PORT: number;
        HOST: string;
        KAFKA_BROKERS: string;
        AUTH_MODE: string;
      };
      expect(config.PORT).toBe(s.port);
      // A pod is reached on its IP, not on loopback.
      expect(config.HOST).toBe('0.0.0.0');
      expect(config.KAFKA_BROKERS).toBe('mlops-kafka-bootstrap:9092');
      expect(config.AUTH_MODE).toBe(dir === 'k8s/overlays/local' ? 'none' : 'api-key');
      if (s.calls.includes('model-registry'))
        expect((parsed.data as { REGISTRY_URL: string }).REGISTRY_URL).toBe(
          'http://model-registry:3006',
        );
    },
  );

  it.each(PLATFORM_SERVICES.map((s) => [s.name, s] as const))(
    '%s: probes and the Service reach the port it listens on, on routes it serves',
    (_name, s) => {
      const d = deployment(objects, s.name);
      const c = container(d);
      expect(portNumber(c, 'http')).toBe(s.port);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        const p = c[probe];
        expect(p?.httpGet, `${s.name} ${probe}`).toBeDefined();
        expect(portNumber(c, p!.httpGet!.port)).toBe(s.port);
        expect(HEALTH_ROUTES).toContain(p!.httpGet!.path);
      }
      expect(c.readinessProbe!.httpGet!.path).toBe('/health/ready');
      const svc = find<
        K8sObject & {
          spec: {
            selector: Record<string, string>;
            ports: { port: number; targetPort: number | string }[];
          };
        }
      >(objects, 'Service', s.name)!;
      expect(svc.spec.ports.map((p) => [p.port, portNumber(c, p.targetPort)])).toEqual([
        [s.port, s.port],
      ]);
      for (const [k, v] of Object.entries(svc.spec.selector))
        expect(d.spec.template.metadata?.labels?.[k]).toBe(v);
    },
  );

  it('scales the stream stages within their partitions and inference with its traffic, keeps single owners single', () => {
    const hpas = ofKind<
      K8sObject & {
        spec: {
          scaleTargetRef: { kind: string; name: string };
          minReplicas?: number;
          maxReplicas: number;
        };
      }
    >(objects, 'HorizontalPodAutoscaler');
    for (const h of hpas) {
      const s = PLATFORM_SERVICES.find((x) => x.name === h.spec.scaleTargetRef.name);
      expect(s?.autoscaled, `HPA ${h.metadata?.name} scales an autoscaled service`).toBeDefined();
      expect(h.spec.scaleTargetRef.kind).toBe('Deployment');
      // A stream stage's replicas beyond its input's partitions would idle.
      const cap = s!.autoscaled!.cappedBy;
      if (cap) expect(h.spec.maxReplicas).toBeLessThanOrEqual(partitionsOf(cap));
      expect(h.spec.maxReplicas).toBeGreaterThanOrEqual(h.spec.minReplicas ?? 1);
      // The HPA owns the count: a replicas field would reset it at every apply.
      expect(deployment(objects, s!.name).spec.replicas).toBeUndefined();
    }
    // Outside the local overlay every autoscaled service has its HPA.
    if (dir !== 'k8s/overlays/local')
      for (const s of PLATFORM_SERVICES.filter((x) => x.autoscaled))
        expect(
          hpas.filter((h) => h.spec.scaleTargetRef.name === s.name),
          `HPA of ${s.name}`,
        ).toHaveLength(1);
    for (const p of ofKind<
      K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }
    >(objects, 'PodDisruptionBudget')) {
      const pods = PLATFORM_SERVICES.map((s) => deployment(objects, s.name)).filter((d) =>
        Object.entries(p.spec.selector.matchLabels).every(
          ([k, v]) => d.spec.template.metadata?.labels?.[k] === v,
        ),
      );
      expect(pods, `PDB ${p.metadata?.name} selects one Deployment's pods`).toHaveLength(1);
    }
    // One owner of the job queue, of the drift state, of the registry's volume and outbox.
    for (const name of ['trainer', 'drift-monitor', 'model-registry']) {
      const d = deployment(objects, name) as Deployment & { spec: { strategy?: { type: string } } };
      expect(d.spec.replicas, name).toBe(1);
      expect(d.spec.strategy?.type, name).toBe('Recreate');
      expect(hpas.find((h) => h.spec.scaleTargetRef.name === name)).toBeUndefined();
    }
  });
});

describe('overlays', () => {
  it('local: one replica of everything, no autoscaling, auth off, one Kafka node', () => {
    const objects = rendered.get('k8s/overlays/local')!;
    expect(ofKind(objects, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(ofKind(objects, 'PodDisruptionBudget')).toEqual([]);
    for (const s of PLATFORM_SERVICES)
      expect(deployment(objects, s.name).spec.replicas, s.name).toBe(1);
    for (const s of PLATFORM_SERVICES)
      expect(
        resolveEnv(objects, container(deployment(objects, s.name)), {}).secretRefs,
        s.name,
      ).toEqual([]);
    const pool = find<K8sObject & { spec: { replicas: number } }>(
      objects,
      'KafkaNodePool',
      'dual-role',
    )!;
    expect(pool.spec.replicas).toBe(1);
    // Nothing that needs CRDs a plain kind cluster lacks (Strimzi's are installed by the README).
    expect(objects.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com'))).toEqual([]);
  });

  it('production: three Kafka nodes, every topic replicated three times with min ISR 2', () => {
    const objects = rendered.get('k8s/overlays/production')!;
    const pool = find<K8sObject & { spec: { replicas: number } }>(
      objects,
      'KafkaNodePool',
      'dual-role',
    )!;
    expect(pool.spec.replicas).toBe(3);
    const kafka = ofKind<K8sObject & { spec: { kafka: { config: Record<string, unknown> } } }>(
      objects,
      'Kafka',
    )[0];
    expect(kafka.spec.kafka.config).toMatchObject({
      'offsets.topic.replication.factor': 3,
      'transaction.state.log.replication.factor': 3,
      'transaction.state.log.min.isr': 2,
      'default.replication.factor': 3,
      'min.insync.replicas': 2,
    });
    const topics = ofKind<K8sObject & { spec: { topicName: string; replicas: number } }>(
      objects,
      'KafkaTopic',
    );
    expect(topics.map((t) => t.spec.topicName).sort()).toEqual(
      Object.values(TOPICS)
        .map((t) => t.name)
        .sort(),
    );
    for (const t of topics) expect(t.spec.replicas, t.spec.topicName).toBe(3);
    // The registry on PostgreSQL, the caches on Redis.
    const env = (name: string) =>
      resolveEnv(objects, container(deployment(objects, name)), TEST_SECRETS).env;
    expect(env('model-registry').DATABASE_URL).toBe(TEST_SECRETS['model-registry-db'].DATABASE_URL);
    expect(env('inference').REDIS_URL).toBe('redis://redis:6379');
    expect(env('feature').REDIS_URL).toBe('redis://redis:6379');
    // Images come from a registry, not a local load.
    for (const s of PLATFORM_SERVICES)
      expect(container(deployment(objects, s.name)).image).not.toBe('mlops-platform:0.1.0');
  });

  it('production: a ServiceMonitor scrapes every service, and the p99 > 500 ms alert reads the real histogram', () => {
    const objects = rendered.get('k8s/overlays/production')!;
    const monitors = ofKind<
      K8sObject & {
        spec: {
          selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
          endpoints: { port: string; path?: string }[];
        };
      }
    >(objects, 'ServiceMonitor');
    for (const s of PLATFORM_SERVICES) {
      const svc = find<K8sObject & { metadata: { labels: Record<string, string> } }>(
        objects,
        'Service',
        s.name,
      )!;
      const scraping = monitors.filter((m) =>
        Object.entries(m.spec.selector.matchLabels ?? {}).every(
          ([k, v]) => svc.metadata.labels[k] === v,
        ),
      );
      expect(scraping.length, s.name).toBeGreaterThan(0);
      expect(
        scraping[0].spec.endpoints.some(
          (e) => e.port === 'http' && (e.path ?? '/metrics') === '/metrics',
        ),
      ).toBe(true);
    }
    const rules = JSON.stringify(ofKind(objects, 'PrometheusRule'));
    expect(rules).toMatch(
      /histogram_quantile\(0\.99,[^"]*inference_request_duration_seconds_bucket/,
    );
    expect(rules).toMatch(/> 0\.5/);
  });
});

describe('the training trial Job example', () => {
  it('validates, and sets only what the trial entry knows, in an environment it accepts', () => {
    const [job] = parseObjects(
      readFileSync(path.join(REPO_ROOT, 'k8s/base/trainer/trial-job.example.yaml'), 'utf8'),
    ) as (K8sObject & { spec: { template: { spec: { containers: Container[] } } } })[];
    expect(validator.validate([job])).toEqual([]);
    const c = job.spec.template.spec.containers[0];
    expect(c.args).toEqual(['trainer-trial']);
    const { env, names, problems } = resolveEnv([], c, TEST_SECRETS);
    expect(problems).toEqual([]);
    const known = new Set(schemaKeys(TrialEnv));
    expect(names.filter((n) => !known.has(n))).toEqual([]);
    const parsed = TrialEnv.safeParse(env);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(env.TRIAL_DATASET_FILE).toBe('/etc/trial/dataset.json');
    expect(c.volumeMounts?.map((m) => m.mountPath)).toContain('/etc/trial');
  });
});

describe('network policies', () => {
  const namespaces: Namespace[] = [
    { name: 'mlops', labels: { 'kubernetes.io/metadata.name': 'mlops' } },
    { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } },
    { name: 'monitoring', labels: { 'kubernetes.io/metadata.name': 'monitoring' } },
    { name: 'elsewhere', labels: { 'kubernetes.io/metadata.name': 'elsewhere' } },
  ];
  const objects = rendered.get('k8s/overlays/production')!;
  const model = new PolicyModel(objects, namespaces, 'mlops');
  /** A pod as the Deployment or StatefulSet makes it. */
  const podOf = (kind: string, name: string): Pod => {
    const o = find<Deployment>(objects, kind, name);
    if (!o) throw new Error(`no ${kind} ${name}`);
    const ports: Record<string, number> = {};
    for (const c of o.spec.template.spec.containers)
      for (const p of c.ports ?? []) if (p.name) ports[p.name] = p.containerPort;
    return { name, namespace: 'mlops', labels: o.spec.template.metadata?.labels ?? {}, ports };
  };
  const services = new Map(PLATFORM_SERVICES.map((s) => [s.name, podOf('Deployment', s.name)]));
  const redis = podOf('Deployment', 'redis');
  const postgres = podOf('StatefulSet', 'postgres');
  // Pods as Strimzi labels them (kafka.strimzi.io/v1 node pools).
  const broker: Pod = {
    name: 'mlops-dual-role-0',
    namespace: 'mlops',
    labels: {
      'strimzi.io/cluster': 'mlops',
      'strimzi.io/kind': 'Kafka',
      'strimzi.io/name': 'mlops-kafka',
      'strimzi.io/pool-name': 'dual-role',
      'app.kubernetes.io/part-of': 'strimzi-mlops',
    },
  };
  const dns: Pod = { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
  const prometheus: Pod = {
    name: 'prometheus-0',
    namespace: 'monitoring',
    labels: { 'app.kubernetes.io/name': 'prometheus' },
  };
  const stranger: Pod = { name: 'stranger', namespace: 'elsewhere', labels: { app: 'x' } };

  it('lets every service reach DNS and the Kafka brokers, and Prometheus scrape every service', () => {
    for (const [name, pod] of services) {
      expect(model.allows(pod, dns, 53, 'UDP'), `${name} → DNS`).toBe(true);
      expect(model.allows(pod, broker, 9092), `${name} → kafka`).toBe(true);
      expect(
        model.allows(prometheus, pod, PLATFORM_SERVICES.find((s) => s.name === name)!.port),
        `prometheus → ${name}`,
      ).toBe(true);
      // Not the brokers' replication or controller ports.
      expect(model.allows(pod, broker, 9091), `${name} → kafka:9091`).toBe(false);
    }
  });

  it('lets each service call exactly what it calls, and nothing else', () => {
    const targets = [
      ...PLATFORM_SERVICES.map((s) => ({ name: s.name, pod: services.get(s.name)!, port: s.port })),
      { name: 'redis', pod: redis, port: 6379 },
      { name: 'postgres', pod: postgres, port: 5432 },
    ];
    const allowed: string[] = [];
    for (const s of PLATFORM_SERVICES)
      for (const t of targets)
        if (t.name !== s.name && model.allows(services.get(s.name)!, t.pod, t.port))
          allowed.push(`${s.name} → ${t.name}`);
    const expected = PLATFORM_SERVICES.flatMap((s) => s.calls.map((c) => `${s.name} → ${c}`));
    expect(allowed.sort()).toEqual(expected.sort());
  });

  it('keeps the stores and internal services away from strangers; users reach the user-facing APIs', () => {
    expect(model.allows(stranger, redis, 6379)).toBe(false);
    expect(model.allows(stranger, postgres, 5432)).toBe(false);
    expect(model.allows(services.get('ingestion')!, postgres, 5432)).toBe(false);
    for (const name of ['ingestion', 'model-registry', 'inference'])
      expect(
        model.allows(
          stranger,
          services.get(name)!,
          PLATFORM_SERVICES.find((s) => s.name === name)!.port,
        ),
        name,
      ).toBe(true);
    expect(model.allows(stranger, services.get('trainer')!, 3004)).toBe(false);
    // Strimzi's own pods are left to Strimzi's policies.
    expect(model.allows(broker, broker, 9091)).toBe(true);
  });
});

describe('the network policy evaluator', () => {
  const ns: Namespace[] = [
    { name: 'a', labels: { team: 'a' } },
    { name: 'b', labels: { team: 'b' } },
  ];
  const pod = (
    name: string,
    namespace: string,
    labels: Record<string, string>,
    ports?: Record<string, number>,
  ): Pod => ({
    name,
    namespace,
    labels,
    ...(ports ? { ports } : {}),
  });
  const web = pod('web', 'a', { app: 'web' }, { http: 8080 });
  const db = pod('db', 'a', { app: 'db' });
  const other = pod('other', 'b', { app: 'web' });
  const policy = (name: string, spec: object) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: 'a' },
    spec,
  });

  it('allows everything without policies, and nothing into a pod selected by an empty ingress policy', () => {
    expect(new PolicyModel([], ns, 'a').allows(other, db, 5432)).toBe(true);
    const m = new PolicyModel(
      [policy('deny', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] })],
      ns,
      'a',
    );
    expect(m.allows(web, db, 5432)).toBe(false);
    expect(m.allows(db, web, 8080)).toBe(true);
  });

  it('reads peers as the API defines them: pods of the policy namespace, namespaces, or both', () => {
    const m = new PolicyModel(
      [
        policy('db', {
          podSelector: { matchLabels: { app: 'db' } },
          ingress: [
            { from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 5432 }] },
          ],
        }),
      ],
      ns,
      'a',
    );
    expect(m.allows(web, db, 5432)).toBe(true);
    // Same labels, other namespace: a bare podSelector means the policy's own namespace.
    expect(m.allows(other, db, 5432)).toBe(false);
    expect(m.allows(web, db, 5433)).toBe(false);
    const both = new PolicyModel(
      [
        policy('db', {
          podSelector: { matchLabels: { app: 'db' } },
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { team: 'b' } },
                  podSelector: { matchLabels: { app: 'web' } },
                },
              ],
            },
          ],
        }),
      ],
      ns,
      'a',
    );
    expect(both.allows(other, db, 1)).toBe(true);
    expect(both.allows(web, db, 1)).toBe(false);
  });

  it('needs the sender’s egress too, resolves named ports, and honours match expressions', () => {
    const m = new PolicyModel(
      [
        policy('egress', {
          podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] },
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ podSelector: { matchLabels: { app: 'web' } } }],
              ports: [{ protocol: 'TCP', port: 'http' }],
            },
          ],
        }),
      ],
      ns,
      'a',
    );
    expect(m.allows(db, web, 8080)).toBe(true);
    expect(m.allows(db, web, 8081)).toBe(false);
    expect(m.allows(db, web, 8080, 'UDP')).toBe(false);
    expect(m.allows(db, other, 8080)).toBe(false);
    expect(m.allows(web, db, 1)).toBe(true);
  });
});
