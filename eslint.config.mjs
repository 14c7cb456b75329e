// Flat ESLint config: typed typescript-eslint rules for the TypeScript sources, untyped rules for
// the plain .js/.mjs scripts, and import boundaries (services never import services, libs never
// import services).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const TS = ['**/*.ts', '**/*.mts', '**/*.cts'];
const JS = ['**/*.js', '**/*.mjs', '**/*.cjs'];
const SOURCES = '*.{ts,mts,cts,js,mjs,cjs}';

// Node's own globals, taken from the Node that runs ESLint, so the scripts need no `globals`
// dependency. CommonJS module-scope names are added for .js/.cjs files only.
const nodeGlobals = Object.fromEntries(
  Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']),
);
const commonJsGlobals = {
  require: 'readonly',
  module: 'writable',
  exports: 'writable',
  __dirname: 'readonly',
  __filename: 'readonly',
};

// Import boundaries. The rule sees only the import string, not the importing file, so the
// configs are generated per directory depth: a file d folders below services/<name>/ leaves its
// own service with d+1 leading `../` (and a libs file reaches the repository root with d+2).
// Globs work for every service, including ones added later. Libraries are reached through the
// @mlops/* aliases, never by climbing out of a service.
const MAX_DEPTH = 12;
const dotdot = (n) => `^(\\.\\./){${n},}`;
const bareServices = {
  regex: '^/|^services(/|$)',
  message:
    'Absolute and baseUrl-relative (services/...) imports bypass the boundaries; import libs through @mlops/*.',
};

function boundaryConfigs() {
  const configs = [];
  for (let depth = 0; depth <= MAX_DEPTH; depth += 1) {
    const dirs = '*/'.repeat(depth);
    const serviceEscape = dotdot(depth + 1);
    configs.push({
      name: `boundaries/services-depth-${depth}`,
      files: [`services/*/${dirs}${SOURCES}`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: serviceEscape,
                message:
                  'A service never leaves its own folder: import libs through @mlops/*, and never another service (talk over Kafka or HTTP).',
              },
              bareServices,
            ],
          },
        ],
        // Dynamic import() is not covered by no-restricted-imports. esquery regexes cannot hold
        // a `/`, hence \x2F.
        'no-restricted-syntax': [
          'error',
          {
            selector: `ImportExpression > Literal[value=/^(\\.\\.\\x2F){${depth + 1},}|^services\\x2F/]`,
            message: 'A service never imports another service, not even dynamically.',
          },
        ],
      },
    });
    configs.push({
      name: `boundaries/libs-depth-${depth}`,
      files: [`libs/*/${dirs}${SOURCES}`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: `^(\\.\\./){${depth + 2}}services(/|$)`,
                message:
                  'Libraries never import services; services depend on libs, not the reverse.',
              },
              bareServices,
            ],
          },
        ],
        'no-restricted-syntax': [
          'error',
          {
            selector: `ImportExpression > Literal[value=/^(\\.\\.\\x2F){${depth + 2}}services|^services\\x2F/]`,
            message: 'Libraries never import services, not even dynamically.',
          },
        ],
      },
    });
  }
  return configs;
}

export default defineConfig(
  {
    name: 'project/ignores',
    ignores: [
      '**/dist/',
      '**/node_modules/',
      'infra/kafka/.dist/',
      'infra/kafka/.data/',
      'bench/results/',
      'coverage/',
      'data/',
      '.cache/',
    ],
  },
  {
    name: 'project/base',
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    name: 'project/typed',
    files: TS,
    languageOptions: {
      parserOptions: {
        projectService: {
          // Root tool configs (vitest.config.ts) sit outside tsconfig.json's include; lint them
          // with its compiler options all the same.
          allowDefaultProject: ['*.config.ts', '*.config.mts'],
          defaultProject: 'tsconfig.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Strict form: a `default:` does not excuse a missing union member, so adding a new event
      // type or decision flags every switch that has to learn about it.
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'warn',
      // Values from JSON.parse, kafkajs headers and similar arrive as `any` before zod parses
      // them; worth seeing, not worth failing the build over.
      '@typescript-eslint/no-unsafe-argument': 'warn',
      '@typescript-eslint/no-unsafe-assignment': 'warn',
      '@typescript-eslint/no-unsafe-call': 'warn',
      '@typescript-eslint/no-unsafe-member-access': 'warn',
      '@typescript-eslint/no-unsafe-return': 'warn',
      // Nest lifecycle hooks and interface implementations are often async without awaiting.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Nest modules and DTO classes are legitimately empty or static-only.
      '@typescript-eslint/no-extraneous-class': 'off',
      // NOTE: no consistent-type-imports: `import type` on an injected class erases the
      // constructor parameter type that Nest's DI reads from decorator metadata.
    },
  },
  {
    name: 'project/tests',
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // expect.any(), mocks and vi.fn() are typed `any` by design; expect(obj.method) is fine.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    name: 'project/kafkajs',
    files: ['libs/bus/**/*.ts'],
    rules: {
      // kafkajs types the eachBatch payload's resolveOffset/heartbeat/isRunning as methods, but
      // they are closures meant to be destructured (as its docs do).
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    name: 'project/scripts',
    files: JS,
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'module', globals: nodeGlobals },
    rules: {
      'no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  {
    name: 'project/commonjs-scripts',
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, ...commonJsGlobals } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...boundaryConfigs(),
);
