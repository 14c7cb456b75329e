import { readFileSync } from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { assertTopicPrefix } from '@mlops/contracts';

/** Kafka connection settings of one service, from its environment. */
export const BusEnv = z
  .object({
    KAFKA_BROKERS: z
      .string()
      .min(1)
      .default('127.0.0.1:9092')
      .describe('comma-separated host:port list'),
    KAFKA_CLIENT_ID: z.string().min(1).optional(),
    KAFKA_TOPIC_PREFIX: z
      .string()
      .default('')
      .refine((p) => {
        try {
          assertTopicPrefix(p);
          return true;
        } catch {
          return false;
        }
      }, 'letters, digits, ".", "_" and "-" only'),
    KAFKA_SSL: z.enum(['true', 'false']).default('false'),
    KAFKA_SSL_CA_FILE: z.string().optional(),
    KAFKA_SSL_CERT_FILE: z.string().optional(),
    KAFKA_SSL_KEY_FILE: z.string().optional(),
    KAFKA_SSL_REJECT_UNAUTHORIZED: z.enum(['true', 'false']).default('true'),
    KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
    KAFKA_SASL_USERNAME: z.string().optional(),
    KAFKA_SASL_PASSWORD: z.string().optional(),
    KAFKA_CONNECTION_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
    KAFKA_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30000),
  })
  .superRefine((env, ctx) => {
    if (env.KAFKA_SASL_MECHANISM && (!env.KAFKA_SASL_USERNAME || !env.KAFKA_SASL_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: ['KAFKA_SASL_USERNAME'],
        message:
          'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM',
      });
    }
    if (Boolean(env.KAFKA_SSL_CERT_FILE) !== Boolean(env.KAFKA_SSL_KEY_FILE)) {
      ctx.addIssue({
        code: 'custom',
        path: ['KAFKA_SSL_CERT_FILE'],
        message: 'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (mutual TLS)',
      });
    }
  });
export type BusEnv = z.infer<typeof BusEnv>;

export interface BusConfig {
  brokers: string[];
  clientId: string;
  topicPrefix: string;
  ssl?: KafkaConfig['ssl'];
  sasl?: SASLOptions;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
}

/** Turns validated environment into the bus configuration (reads TLS files once, at boot). */
export function busConfigFromEnv(env: BusEnv, defaultClientId: string): BusConfig {
  const tls = env.KAFKA_SSL === 'true';
  const config: BusConfig = {
    brokers: env.KAFKA_BROKERS.split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    clientId: env.KAFKA_CLIENT_ID ?? defaultClientId,
    topicPrefix: env.KAFKA_TOPIC_PREFIX,
    connectionTimeoutMs: env.KAFKA_CONNECTION_TIMEOUT_MS,
    requestTimeoutMs: env.KAFKA_REQUEST_TIMEOUT_MS,
  };
  if (tls) {
    config.ssl = {
      rejectUnauthorized: env.KAFKA_SSL_REJECT_UNAUTHORIZED === 'true',
      ...(env.KAFKA_SSL_CA_FILE ? { ca: [readFileSync(env.KAFKA_SSL_CA_FILE, 'utf8')] } : {}),
      ...(env.KAFKA_SSL_CERT_FILE ? { cert: readFileSync(env.KAFKA_SSL_CERT_FILE, 'utf8') } : {}),
      ...(env.KAFKA_SSL_KEY_FILE ? { key: readFileSync(env.KAFKA_SSL_KEY_FILE, 'utf8') } : {}),
    };
  }
  if (env.KAFKA_SASL_MECHANISM) {
    config.sasl = {
      mechanism: env.KAFKA_SASL_MECHANISM,
      username: env.KAFKA_SASL_USERNAME!,
      password: env.KAFKA_SASL_PASSWORD!,
    };
  }
  return config;
}
