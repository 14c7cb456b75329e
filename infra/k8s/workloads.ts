import type { z } from 'zod';
import { TOPICS, type TopicKey } from '@mlops/contracts';
import { CompressorEnv } from '../../services/compressor/src/config';
import { DataQualityEnv } from '../../services/data-quality/src/config';
import { DriftMonitorEnv } from '../../services/drift-monitor/src/config';
import { FeatureEnv } from '../../services/feature/src/config';
import { InferenceEnv } from '../../services/inference/src/config';
import { IngestionEnv } from '../../services/ingestion/src/config';
import { RegistryEnv } from '../../services/model-registry/src/config';
import { TrainerEnv } from '../../services/trainer/src/config';
import type { K8sObject } from './manifests';

/**
 * What the manifests must agree with, taken from the code: each service's config schema (the
 * keys a Deployment may set), its port, the topic its replicas share (which bounds an HPA) and
 * whom it calls over the network (which the network policies must allow, and nothing more).
 */
export interface PlatformService {
  name: string;
  port: number;
  schema: z.ZodType;
  /**
   * Autoscaled (an HPA), and the topic whose partitions its replicas divide, which caps the
   * HPA for a stream stage. Inference is scaled by HTTP traffic, which every replica serves: no
   * topic caps it (stream scoring runs on as many replicas as features.v1 has partitions).
   */
  autoscaled?: { cappedBy?: TopicKey };
  /** Services it calls over REST, and the stores it uses. */
  calls: readonly ('model-registry' | 'redis' | 'postgres')[];
}

export const PLATFORM_SERVICES: readonly PlatformService[] = [
  {
    name: 'ingestion',
    port: 3001,
    schema: IngestionEnv,
    autoscaled: { cappedBy: 'ingestRaw' },
    calls: [],
  },
  {
    name: 'data-quality',
    port: 3002,
    schema: DataQualityEnv,
    autoscaled: { cappedBy: 'eventsValidated' },
    calls: [],
  },
  {
    name: 'feature',
    port: 3003,
    schema: FeatureEnv,
    autoscaled: { cappedBy: 'eventsClean' },
    calls: ['model-registry', 'redis'],
  },
  { name: 'trainer', port: 3004, schema: TrainerEnv, calls: ['model-registry'] },
  { name: 'compressor', port: 3005, schema: CompressorEnv, calls: ['model-registry'] },
  { name: 'model-registry', port: 3006, schema: RegistryEnv, calls: ['postgres'] },
  {
    name: 'inference',
    port: 3007,
    schema: InferenceEnv,
    autoscaled: {},
    calls: ['model-registry', 'redis'],
  },
  { name: 'drift-monitor', port: 3008, schema: DriftMonitorEnv, calls: ['model-registry'] },
];

/** The routes every service serves for probes and scraping (libs/observability). */
export const HEALTH_ROUTES = ['/health/live', '/health/ready', '/metrics'] as const;

/** Partitions of a contract topic. */
export function partitionsOf(topic: TopicKey): number {
  return TOPICS[topic].partitions;
}

interface ZodDef {
  type: string;
  shape?: Record<string, unknown>;
  left?: { _zod: { def: ZodDef } };
  right?: { _zod: { def: ZodDef } };
  in?: { _zod: { def: ZodDef } };
}

/** The environment variables a config schema knows (objects, intersections and pipes of them). */
export function schemaKeys(schema: z.ZodType): string[] {
  const keys = (def: ZodDef): string[] => {
    switch (def.type) {
      case 'object':
        return Object.keys(def.shape ?? {});
      case 'intersection':
        return [...keys(def.left!._zod.def), ...keys(def.right!._zod.def)];
      case 'pipe':
        return keys(def.in!._zod.def);
      default:
        throw new Error(`schemaKeys: a config schema of type ${def.type} is not understood`);
    }
  };
  return [...new Set(keys((schema as unknown as { _zod: { def: ZodDef } })._zod.def))].sort();
}

/* Just the parts of the Kubernetes types these checks read. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: unknown;
    resourceFieldRef?: unknown;
  };
}
export interface Probe {
  httpGet?: { path?: string; port: number | string };
  periodSeconds?: number;
  failureThreshold?: number;
}
export interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { prefix?: string; configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
}
export interface PodSpec {
  containers: Container[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
}
export interface Deployment extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels?: Record<string, string> };
    template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  };
}

export function find<T extends K8sObject = K8sObject>(
  objects: readonly K8sObject[],
  kind: string,
  name: string,
): T | undefined {
  return objects.find((o) => o.kind === kind && o.metadata?.name === name) as T | undefined;
}

/** Secret values by Secret name, then key (tests make them up: none is committed). */
export type SecretValues = Record<string, Record<string, string>>;

export const SERVICE_KEY = 'svc-key-0123456789abcdef';
export const ADMIN_KEY = 'admin-key-0123456789abcdef';
/**
 * Values standing in for what users put in the Secrets (none is committed; the README says how
 * to create them), for the checks of the rendered manifests.
 */
export const TEST_SECRETS: SecretValues = {
  'mlops-auth': {
    AUTH_API_KEYS: `${SERVICE_KEY}:publisher:services,${ADMIN_KEY}:admin:ops`,
    REGISTRY_API_KEY: SERVICE_KEY,
  },
  'model-registry-db': { DATABASE_URL: 'postgres://mlops:pw@postgres:5432/mlops' },
  postgres: { POSTGRES_PASSWORD: 'pw' },
};

export interface ResolvedEnv {
  /** The environment the container starts with. */
  env: Record<string, string>;
  /** Every name set, in order (ConfigMap keys, then env entries). */
  names: string[];
  /** Secret references, as `secret/key`. */
  secretRefs: string[];
  problems: string[];
}

/**
 * The environment a container starts with, as the kubelet builds it: `envFrom` ConfigMaps (and
 * Secrets), then `env` entries (later wins), `$(VAR)` references expanded from what came before.
 * ConfigMaps come from the rendered objects, Secrets from `secrets`; a missing non-optional one
 * is a problem, as it would keep the pod from starting.
 */
export function resolveEnv(
  objects: readonly K8sObject[],
  container: Container,
  secrets: SecretValues,
): ResolvedEnv {
  const env: Record<string, string> = {};
  const names: string[] = [];
  const secretRefs: string[] = [];
  const problems: string[] = [];
  const configMap = (name: string) =>
    find<K8sObject & { data?: Record<string, string> }>(objects, 'ConfigMap', name);
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = configMap(from.configMapRef.name);
      if (!cm) problems.push(`envFrom ConfigMap ${from.configMapRef.name} is not rendered`);
      for (const [k, v] of Object.entries(cm?.data ?? {})) {
        env[prefix + k] = v;
        names.push(prefix + k);
      }
    }
    if (from.secretRef) {
      const s = secrets[from.secretRef.name];
      if (!s) problems.push(`envFrom Secret ${from.secretRef.name} has no test values`);
      for (const [k, v] of Object.entries(s ?? {})) {
        env[prefix + k] = v;
        names.push(prefix + k);
        secretRefs.push(`${from.secretRef.name}/${k}`);
      }
    }
  }
  for (const e of container.env ?? []) {
    names.push(e.name);
    if (e.value !== undefined) {
      env[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, v: string) =>
        v in env ? env[v] : whole,
      );
      continue;
    }
    const cmRef = e.valueFrom?.configMapKeyRef;
    const secretRef = e.valueFrom?.secretKeyRef;
    if (cmRef) {
      const value = configMap(cmRef.name)?.data?.[cmRef.key];
      if (value !== undefined) env[e.name] = value;
      else if (!cmRef.optional)
        problems.push(`${e.name}: ConfigMap ${cmRef.name} has no key ${cmRef.key}`);
    } else if (secretRef) {
      secretRefs.push(`${secretRef.name}/${secretRef.key}`);
      const value = secrets[secretRef.name]?.[secretRef.key];
      if (value !== undefined) env[e.name] = value;
      else if (!secretRef.optional)
        problems.push(`${e.name}: no test value for Secret ${secretRef.name} key ${secretRef.key}`);
    } else {
      problems.push(`${e.name}: only values, ConfigMap and Secret keys are understood`);
    }
  }
  return { env, names, secretRefs, problems };
}

/** The container port a probe or Service targets: a number, or a named port of the container. */
export function portNumber(container: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}
