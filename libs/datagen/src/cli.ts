#!/usr/bin/env node
/**
 * `npm run datagen -- --n 50000 --seed 7 --duplicates 0.02 --format ndjson --out cards.ndjson`
 * (see {@link USAGE}). Writes the records, and with `--truth` the injected defects and drift.
 */
import { writeFileSync } from 'node:fs';
import { USAGE, parseCliArgs } from './cli-args';
import { toCloudEvents, toCsv, toNdjson } from './format';
import { generateCards } from './generate';

function main(argv: readonly string[]): number {
  let command: ReturnType<typeof parseCliArgs>;
  try {
    command = parseCliArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  let generated: ReturnType<typeof generateCards>;
  try {
    generated = generateCards(command.options);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const { records, ids, truth } = generated;
  const body =
    command.format === 'csv'
      ? toCsv(records)
      : command.format === 'cloudevents'
        ? toNdjson(toCloudEvents(records, ids))
        : toNdjson(records);
  if (command.out === undefined) process.stdout.write(body);
  else writeFileSync(command.out, body);
  if (command.truth !== undefined) writeFileSync(command.truth, `${JSON.stringify(truth)}\n`);
  const summary = Object.entries(truth.counts)
    .filter(([, c]) => c > 0)
    .map(([k, c]) => `${k} ${c}`)
    .join(', ');
  process.stderr.write(
    `datagen: ${records.length} records (seed ${truth.seed})${summary ? `; ${summary}` : ''}` +
      `${truth.drift ? `; drift from ${truth.drift.from}` : ''}${command.out ? ` → ${command.out}` : ''}\n`,
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
