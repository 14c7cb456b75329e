import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTrainingSpec } from '@mlops/contracts';
import { evaluate, recallAtPrecision } from '@mlops/ml';
import { selectBackend } from './backend';
import { cardsTrainingData } from './cards';
import { predictOutputs, trainNetwork } from './loop';

/**
 * The trainer's acceptance on generated fraud data (about 2 % positives, 80,000 transactions,
 * the cards spec's featureset): the MLP ranks fraud at least as well as the logistic-regression
 * baseline, and dynamic sampling with class weights finds more fraud than plain training at the
 * same precision. Scored on the test split, which no run saw.
 */

const data = () => cardsTrainingData(80_000, 5);
type Data = ReturnType<typeof data>;
let d: Data;

async function fit(model: Record<string, unknown>, training: Record<string, unknown>) {
  const spec = resolveTrainingSpec({
    name: 'cards',
    model,
    training: { epochs: 15, batchSize: 256, ...training },
  });
  const outcome = await trainNetwork(d, { task: 'binary', classes: ['0', '1'], ...spec });
  const scores = Array.from(
    predictOutputs(outcome.network, d.values, d.columns, d.test, 'binary', 2).values,
  );
  const y = Array.from(d.test, (r) => d.labels[r]);
  const report = evaluate('binary', y, scores);
  const recallAt = (precision: number) => recallAtPrecision(y, scores, precision)?.recall ?? 0;
  return { report, recallAt, epochs: outcome.epochsRun };
}

beforeAll(async () => {
  await selectBackend('wasm');
  d = data();
});

describe('training on generated fraud data', () => {
  it('has about 2 % positives in the test split', () => {
    const positives = Array.from(d.test, (r) => d.labels[r]).filter((y) => y === 1).length;
    expect(positives / d.test.length).toBeGreaterThan(0.01);
    expect(positives / d.test.length).toBeLessThan(0.03);
  });

  it('the MLP’s PR-AUC is at least the logistic regression’s; sampling + class weights raise recall at equal precision', async () => {
    const lr = await fit(
      { type: 'logistic_regression' },
      { optimizer: { type: 'adam', learningRate: 0.01 } },
    );
    const mlp = await fit({ hidden: [64, 32] }, {});
    const balanced = await fit(
      { hidden: [64, 32] },
      {
        classWeights: 'balanced',
        sampling: { target: { '0': 0.7, '1': 0.3 }, adjustEvery: 50 },
      },
    );
    const levels = [0.1, 0.15];
    const line = (name: string, r: Awaited<ReturnType<typeof fit>>) =>
      `${name.padEnd(38)} PR-AUC ${r.report.averagePrecision!.toFixed(4)}  ROC-AUC ${r.report.rocAuc!.toFixed(4)}  ` +
      levels.map((p) => `recall@precision≥${p} ${r.recallAt(p).toFixed(3)}`).join('  ') +
      `  (${r.epochs} epochs)`;
    console.log(
      [
        line('logistic regression', lr),
        line('MLP 64-32, plain', mlp),
        line('MLP 64-32, dynamic sampling + weights', balanced),
      ].join('\n'),
    );
    expect(mlp.report.averagePrecision!).toBeGreaterThanOrEqual(lr.report.averagePrecision!);
    for (const p of levels) expect(balanced.recallAt(p)).toBeGreaterThan(mlp.recallAt(p));
  }, 300_000);
});
