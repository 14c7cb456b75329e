import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';
import tsconfig from './tsconfig.json';

// One command runs every tier: unit (pure logic, colocated *.spec.ts), broker (one component on
// the real Kafka broker, *.broker.spec.ts) and e2e (several services as processes, test/).
// SWC compiles the sources so that Nest's decorator metadata exists, as in the built services.
const alias = Object.fromEntries(
  Object.entries(tsconfig.compilerOptions.paths).map(([name, [target]]) => [
    name,
    new URL(`./${target}`, import.meta.url).pathname,
  ]),
);

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias },
  test: {
    globalSetup: ['libs/testing/src/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Tiers run one after the other: unit, then broker, then e2e.
          sequence: { groupOrder: 0 },
          include: [
            'libs/**/*.spec.ts',
            'services/**/*.spec.ts',
            'cli/**/*.spec.ts',
            'infra/**/*.spec.ts',
          ],
          exclude: ['**/*.broker.spec.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'broker',
          sequence: { groupOrder: 1 },
          include: [
            'libs/**/*.broker.spec.ts',
            'services/**/*.broker.spec.ts',
            'infra/**/*.broker.spec.ts',
          ],
          // Broker tests share one 2-core machine with the broker itself.
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          sequence: { groupOrder: 2 },
          include: ['test/**/*.e2e.spec.ts'],
          // Each file starts service processes; one at a time keeps them from starving.
          fileParallelism: false,
          testTimeout: 300_000,
        },
      },
    ],
  },
});
