import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { logLevel } from 'kafkajs';
import { kafkaLogCreator } from './bus';

function capture() {
  const lines: { level: number; msg: string; error?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  return { lines, log: kafkaLogCreator(logger)() };
}

describe('kafkajs log lines', () => {
  it('keeps real errors as errors and turns the ones kafkajs retries into warnings', () => {
    const { lines, log } = capture();
    const entry = (level: logLevel, error: string) => ({
      namespace: 'Connection',
      level,
      label: 'ERROR',
      log: { timestamp: 't', message: 'Response GroupCoordinator', error },
    });
    log(entry(logLevel.ERROR, 'The group coordinator is not available'));
    log(entry(logLevel.ERROR, 'Topic authorization failed'));
    log(entry(logLevel.INFO, 'The group coordinator is not available'));
    expect(lines.map((l) => [l.level, l.error])).toEqual([
      [40, 'The group coordinator is not available'],
      [50, 'Topic authorization failed'],
      [30, 'The group coordinator is not available'],
    ]);
  });
});
