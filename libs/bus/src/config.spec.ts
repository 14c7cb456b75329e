import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@mlops/config';
import { BusEnv, busConfigFromEnv } from './config';

function problems(env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
  try {
    loadConfig('svc', BusEnv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('accepted');
}

describe('BusEnv', () => {
  it('has local defaults: one broker, no prefix, no TLS, no SASL', () => {
    expect(BusEnv.parse({})).toEqual({
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_TOPIC_PREFIX: '',
      KAFKA_SSL: 'false',
      KAFKA_SSL_REJECT_UNAUTHORIZED: 'true',
      KAFKA_CONNECTION_TIMEOUT_MS: 3000,
      KAFKA_REQUEST_TIMEOUT_MS: 30000,
    });
    expect(busConfigFromEnv(BusEnv.parse({}), 'ingestion')).toEqual({
      brokers: ['127.0.0.1:9092'],
      clientId: 'ingestion',
      topicPrefix: '',
      connectionTimeoutMs: 3000,
      requestTimeoutMs: 30000,
    });
  });

  it('requires username and password with a SASL mechanism, naming KAFKA_SASL_USERNAME', () => {
    const expected = [
      {
        variable: 'KAFKA_SASL_USERNAME',
        message:
          'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM (got "alice")',
      },
    ];
    expect(problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'alice' })).toEqual(
      expected,
    );
    expect(problems({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_PASSWORD: 'pw' })).toEqual([
      {
        variable: 'KAFKA_SASL_USERNAME',
        message:
          'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM',
      },
    ]);
    expect(
      problems({
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: '',
        KAFKA_SASL_PASSWORD: 'pw',
      }).map((p) => p.variable),
    ).toEqual(['KAFKA_SASL_USERNAME']);
  });

  it('never echoes the SASL password', () => {
    const found = problems({
      KAFKA_SASL_MECHANISM: 'gssapi',
      KAFKA_SASL_USERNAME: 'alice',
      KAFKA_SASL_PASSWORD: 'p4ssw0rd!',
    });
    expect(found.map((p) => p.variable)).toEqual(['KAFKA_SASL_MECHANISM']);
    expect(JSON.stringify(found)).not.toContain('p4ssw0rd!');
  });

  it('refuses a bad prefix, a bad SSL flag, non-positive timeouts and half a client certificate', () => {
    expect(
      problems({
        KAFKA_TOPIC_PREFIX: 'bad prefix/',
        KAFKA_SSL: 'yes',
        KAFKA_CONNECTION_TIMEOUT_MS: '0',
      }),
    ).toEqual([
      {
        variable: 'KAFKA_TOPIC_PREFIX',
        message: 'letters, digits, ".", "_" and "-" only (got "bad prefix/")',
      },
      {
        variable: 'KAFKA_SSL',
        message: 'Invalid option: expected one of "true"|"false" (got "yes")',
      },
      {
        variable: 'KAFKA_CONNECTION_TIMEOUT_MS',
        message: 'Too small: expected number to be >0 (got "0")',
      },
    ]);
    expect(problems({ KAFKA_SSL_KEY_FILE: '/tmp/key.pem' })).toEqual([
      {
        variable: 'KAFKA_SSL_CERT_FILE',
        message: 'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (mutual TLS)',
      },
    ]);
  });
});

describe('busConfigFromEnv', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bus-config-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('splits and trims the broker list, dropping empty entries', () => {
    const config = busConfigFromEnv(
      BusEnv.parse({ KAFKA_BROKERS: ' k1:9092, k2:9093 ,,k3:9094 ,' }),
      'svc',
    );
    expect(config.brokers).toEqual(['k1:9092', 'k2:9093', 'k3:9094']);
  });

  it('takes the client id, prefix and timeouts from the environment', () => {
    const config = busConfigFromEnv(
      BusEnv.parse({
        KAFKA_CLIENT_ID: 'ingestion-0',
        KAFKA_TOPIC_PREFIX: 'prod.',
        KAFKA_CONNECTION_TIMEOUT_MS: '5000',
        KAFKA_REQUEST_TIMEOUT_MS: '60000',
      }),
      'ingestion',
    );
    expect(config).toEqual({
      brokers: ['127.0.0.1:9092'],
      clientId: 'ingestion-0',
      topicPrefix: 'prod.',
      connectionTimeoutMs: 5000,
      requestTimeoutMs: 60000,
    });
  });

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)(
    'passes the SASL mechanism %s as kafkajs names it',
    (mechanism) => {
      const config = busConfigFromEnv(
        BusEnv.parse({
          KAFKA_SASL_MECHANISM: mechanism,
          KAFKA_SASL_USERNAME: 'alice',
          KAFKA_SASL_PASSWORD: 'pw',
        }),
        'svc',
      );
      expect(config.sasl).toEqual({ mechanism, username: 'alice', password: 'pw' });
      expect(config.ssl).toBeUndefined();
    },
  );

  it('leaves TLS off by default, even when files are named', () => {
    const config = busConfigFromEnv(
      BusEnv.parse({ KAFKA_SSL_CA_FILE: path.join(dir, 'missing.pem') }),
      'svc',
    );
    expect(config.ssl).toBeUndefined();
    expect(config.sasl).toBeUndefined();
  });

  it('turns TLS on with the files read, and verification as configured', () => {
    writeFileSync(path.join(dir, 'ca.pem'), 'CA PEM');
    writeFileSync(path.join(dir, 'cert.pem'), 'CERT PEM');
    writeFileSync(path.join(dir, 'key.pem'), 'KEY PEM');
    expect(busConfigFromEnv(BusEnv.parse({ KAFKA_SSL: 'true' }), 'svc').ssl).toEqual({
      rejectUnauthorized: true,
    });
    const config = busConfigFromEnv(
      BusEnv.parse({
        KAFKA_SSL: 'true',
        KAFKA_SSL_REJECT_UNAUTHORIZED: 'false',
        KAFKA_SSL_CA_FILE: path.join(dir, 'ca.pem'),
        KAFKA_SSL_CERT_FILE: path.join(dir, 'cert.pem'),
        KAFKA_SSL_KEY_FILE: path.join(dir, 'key.pem'),
      }),
      'svc',
    );
    expect(config.ssl).toEqual({
      rejectUnauthorized: false,
      ca: ['CA PEM'],
      cert: 'CERT PEM',
      key: 'KEY PEM',
    });
  });
});
