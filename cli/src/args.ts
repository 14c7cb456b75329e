import { parseArgs } from 'node:util';
import { UsageError, type ServiceName } from './errors';

/**
 * The command catalogue and argument parsing: `mlops <command> [<subcommand>] [args] [options]`
 * with node's util.parseArgs. Pure: argv and env in, a parsed command (or help text) out;
 * every mistake is a {@link UsageError} carrying the usage to print.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in help: URL, N, NAME… */
  value?: string;
  description: string;
  required?: boolean;
}

/** Where each service is found: option, environment variable, default port. */
export const SERVICES: readonly {
  service: ServiceName;
  option: string;
  env: string;
  port: number;
}[] = [
  { service: 'ingestion', option: 'ingestion', env: 'MLOPS_INGESTION_URL', port: 3001 },
  { service: 'data-quality', option: 'quality', env: 'MLOPS_QUALITY_URL', port: 3002 },
  { service: 'feature', option: 'feature', env: 'MLOPS_FEATURE_URL', port: 3003 },
  { service: 'trainer', option: 'trainer-url', env: 'MLOPS_TRAINER_URL', port: 3004 },
  { service: 'compressor', option: 'compressor-url', env: 'MLOPS_COMPRESSOR_URL', port: 3005 },
  { service: 'registry', option: 'registry', env: 'MLOPS_REGISTRY_URL', port: 3006 },
  { service: 'inference', option: 'inference', env: 'MLOPS_INFERENCE_URL', port: 3007 },
  { service: 'drift-monitor', option: 'drift', env: 'MLOPS_DRIFT_URL', port: 3008 },
];

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'machine output: one JSON document on stdout' },
  ...Object.fromEntries(
    SERVICES.map((s) => [
      s.option,
      {
        type: 'string',
        value: 'URL',
        description: `${s.service} (env ${s.env}, default http://127.0.0.1:${s.port})`,
      } satisfies OptionSpec,
    ]),
  ),
  'api-key': {
    type: 'string',
    value: 'KEY',
    description: 'sent as X-Api-Key to every service (env MLOPS_API_KEY)',
  },
  help: { type: 'boolean', short: 'h', description: 'this help, or a command’s' },
};

export type CommandId =
  | 'status'
  | 'specs apply'
  | 'specs get'
  | 'specs list'
  | 'produce'
  | 'feedback'
  | 'models list'
  | 'models show'
  | 'models versions'
  | 'models promote'
  | 'models rollback'
  | 'models alias'
  | 'predict'
  | 'drift report'
  | 'drift status'
  | 'train'
  | 'jobs';

export interface CommandSpec {
  id: CommandId;
  /** After `mlops <id>` in the usage line. */
  args: string;
  summary: string;
  positionals: { name: string; required: boolean }[];
  options: Record<string, OptionSpec>;
  /** Paragraphs after the usage line. */
  details?: string;
  examples: string[];
  /** Which services it talks to (named in the help's global options line). */
  services: ServiceName[];
}

const reason = (what: string): OptionSpec => ({
  type: 'string',
  value: 'TEXT',
  description: `why (recorded in the alias history; default "${what} with the mlops CLI")`,
});
const versionOpt = (description: string): OptionSpec => ({
  type: 'string',
  value: 'N',
  description,
});

const produceOptions = (what: string): Record<string, OptionSpec> => ({
  dataset: {
    type: 'string',
    value: 'NAME',
    description: 'the dataset (its spec must be registered)',
    required: true,
  },
  batch: {
    type: 'string',
    value: 'N',
    description: `${what} per request, 1 to 10000 (default 1000; batches also stop at 4 MiB)`,
  },
  format: {
    type: 'string',
    value: 'FMT',
    description: 'csv, jsonl or json (default: from the file name; for - from the first character)',
  },
});

export const COMMANDS: readonly CommandSpec[] = [
  {
    id: 'status',
    args: '',
    summary: 'readiness of every service; the models and their aliases',
    positionals: [],
    options: {},
    details:
      'Asks every service for /health/ready (3 s timeout) and the registry for its models.\nExit 0 when every service is ready, 1 otherwise.',
    examples: ['mlops status', 'mlops status --json | jq .services'],
    services: ['registry'],
  },
  {
    id: 'specs apply',
    args: '<spec.yaml|spec.json|->',
    summary: 'register a dataset spec (YAML or JSON); says when it is unchanged',
    positionals: [{ name: 'file', required: true }],
    options: {
      force: {
        type: 'boolean',
        description: 'register a new version even when the registry’s latest is the same',
      },
    },
    details:
      'Checks the spec locally, compares it with the registry’s latest version of the dataset, and\nregisters it as the next version when it differs (the registry assigns the version).',
    examples: [
      'mlops specs apply examples/specs/cards.json',
      'mlops specs apply cards.yaml --force',
    ],
    services: ['registry'],
  },
  {
    id: 'specs get',
    args: '<dataset>',
    summary: 'a dataset spec: its fields and sections',
    positionals: [{ name: 'dataset', required: true }],
    options: { version: versionOpt('that version (default: the latest)') },
    examples: ['mlops specs get cards', 'mlops specs get cards --version 2 --json'],
    services: ['registry'],
  },
  {
    id: 'specs list',
    args: '',
    summary: 'every dataset spec (latest versions)',
    positionals: [],
    options: {},
    examples: ['mlops specs list'],
    services: ['registry'],
  },
  {
    id: 'produce',
    args: '<file.csv|file.jsonl|file.ndjson|file.json|-> --dataset NAME',
    summary: 'send records (CSV, JSON lines) to ingestion in batches',
    positionals: [{ name: 'file', required: true }],
    options: produceOptions('records'),
    details: [
      'CSV needs a header row (RFC 4180 quoting); its cells are typed by the dataset spec: numeric',
      'fields and numeric labels become numbers, booleans true/false, empty cells are left out.',
      'JSON records are sent as they are. A 429 is waited out (Retry-After) and the batch resent.',
      'Exit 0 when every record was accepted, 4 when some were rejected (the run still completed),',
      '1 when a failure stopped the run.',
    ].join('\n'),
    examples: [
      'mlops produce cards.csv --dataset cards',
      'npm run -s datagen -- --n 5000 --format ndjson | mlops produce - --dataset cards --batch 500',
    ],
    services: ['registry', 'ingestion'],
  },
  {
    id: 'feedback',
    args: '<file.csv|file.jsonl|-> --dataset NAME',
    summary: 'send late labels (entityId, label, requestId…) to ingestion',
    positionals: [{ name: 'file', required: true }],
    options: produceOptions('labels'),
    details: [
      'Columns (CSV) or keys (JSON): entityId, label, and optionally requestId, eventTime, id. The label',
      'is typed by the spec’s label field. Ingestion takes a batch all or nothing: records it refuses',
      'are counted as rejected and the rest of the batch is resent. Exit codes as for produce.',
    ].join('\n'),
    examples: ['mlops feedback labels.csv --dataset cards'],
    services: ['registry', 'ingestion'],
  },
  {
    id: 'models list',
    args: '',
    summary: 'models: latest version, aliases, last update',
    positionals: [],
    options: {},
    examples: ['mlops models list'],
    services: ['registry'],
  },
  {
    id: 'models show',
    args: '<model>',
    summary: 'a version in detail: status, metrics, tags, lineage, aliases',
    positionals: [{ name: 'model', required: true }],
    options: { version: versionOpt('that version (default: the latest)') },
    examples: ['mlops models show cards', 'mlops models show cards --version 3 --json'],
    services: ['registry'],
  },
  {
    id: 'models versions',
    args: '<model>',
    summary: 'a model’s versions, newest first',
    positionals: [{ name: 'model', required: true }],
    options: { limit: { type: 'string', value: 'N', description: 'at most N (default 50)' } },
    examples: ['mlops models versions cards'],
    services: ['registry'],
  },
  {
    id: 'models promote',
    args: '<model>',
    summary: 'production ← a version (default: the canary’s)',
    positionals: [{ name: 'model', required: true }],
    options: {
      version: versionOpt('the version to promote (default: the one behind the canary alias)'),
      reason: reason('promoted'),
    },
    examples: [
      'mlops models promote cards',
      'mlops models promote cards --version 4 --reason "A/B won"',
    ],
    services: ['registry'],
  },
  {
    id: 'models rollback',
    args: '<model>',
    summary: 'move an alias back (to --to N, else to its previous version)',
    positionals: [{ name: 'model', required: true }],
    options: {
      alias: {
        type: 'string',
        value: 'ALIAS',
        description: 'production (default) or canary; rolling back the canary removes it',
      },
      to: versionOpt('the version to go back to (default: the previous one)'),
      reason: reason('rolled back'),
    },
    examples: ['mlops models rollback cards', 'mlops models rollback cards --alias canary'],
    services: ['registry'],
  },
  {
    id: 'models alias',
    args: '<model> <alias> [<version>]',
    summary: 'point an alias at a version, or --delete it',
    positionals: [
      { name: 'model', required: true },
      { name: 'alias', required: true },
      { name: 'version', required: false },
    ],
    options: {
      delete: { type: 'boolean', description: 'remove the alias instead' },
      reason: reason('set'),
    },
    examples: ['mlops models alias cards canary 5', 'mlops models alias cards canary --delete'],
    services: ['registry'],
  },
  {
    id: 'predict',
    args: "<model> (--record '<json>' | --file records.jsonl)",
    summary: 'score raw records with the served model',
    positionals: [{ name: 'model', required: true }],
    options: {
      record: {
        type: 'string',
        value: 'JSON',
        description: 'one record as JSON, or an array of records',
      },
      file: {
        type: 'string',
        value: 'FILE',
        description:
          'records as JSON lines (.jsonl, .ndjson), a JSON array (.json), or - for stdin',
      },
      version: versionOpt(
        'score with this served version: the CLI applies its featureset and calls /v2 infer',
      ),
    },
    examples: [
      `mlops predict cards --record '{"card_id":"c1","amount":912.5,"hour":3,"merchant_category":"online","country":"FR","ts":"2026-01-01T03:00:00Z"}'`,
      'mlops predict cards --file records.jsonl --json',
    ],
    services: ['inference', 'registry'],
  },
  {
    id: 'drift report',
    args: '<model>',
    summary: 'latest drift report: features, predictions, performance',
    positionals: [{ name: 'model', required: true }],
    options: {
      version: versionOpt('that version (default: the one behind production)'),
      kind: {
        type: 'string',
        value: 'KIND',
        description: 'window, features or performance (default: the latest of any kind)',
      },
      drifted: { type: 'boolean', description: 'list only the features that drifted' },
    },
    examples: [
      'mlops drift report cards',
      'mlops drift report cards --version 3 --kind performance',
    ],
    services: ['drift-monitor', 'registry'],
  },
  {
    id: 'drift status',
    args: '',
    summary: 'what the drift monitor watches: traffic, labels, canaries',
    positionals: [],
    options: {},
    examples: ['mlops drift status'],
    services: ['drift-monitor'],
  },
  {
    id: 'train',
    args: '--dataset NAME [--since 24h | --from ISO [--to ISO]]',
    summary: 'ask for a training dataset (the trainer then trains on it)',
    positionals: [],
    options: {
      dataset: { type: 'string', value: 'NAME', description: 'the dataset', required: true },
      since: {
        type: 'string',
        value: 'DURATION',
        description: 'records ingested in the last 30m, 24h, 7d… (default: everything so far)',
      },
      from: { type: 'string', value: 'ISO', description: 'records ingested from this time' },
      to: { type: 'string', value: 'ISO', description: 'up to this time (default: now)' },
      reason: { type: 'string', value: 'TEXT', description: 'recorded with the request' },
      'request-id': {
        type: 'string',
        value: 'ID',
        description: 'idempotency key (default: a new UUID)',
      },
    },
    examples: ['mlops train --dataset cards', 'mlops train --dataset cards --since 24h'],
    services: ['feature'],
  },
  {
    id: 'jobs',
    args: '[--trainer | --compressor]',
    summary: 'training and compression jobs, newest first',
    positionals: [],
    options: {
      trainer: { type: 'boolean', description: 'only training jobs' },
      compressor: { type: 'boolean', description: 'only compression jobs' },
      limit: {
        type: 'string',
        value: 'N',
        description: 'at most N of each, 1 to 1000 (default 20)',
      },
    },
    examples: ['mlops jobs', 'mlops jobs --trainer --json'],
    services: ['trainer', 'compressor'],
  },
];

const GROUPS = ['specs', 'models', 'drift'] as const;

export const EXIT_CODES_HELP = `Exit codes:
  0    success (produce/feedback: every record accepted; status: every service ready)
  1    failure: a service unreachable or answering 5xx/401/403/409/429, a run that
       stopped, a service not ready (status)
  2    bad arguments or input (usage on stderr), or a service answered 400/422
  3    not found: a service answered 404 (model, version, dataset, report)
  4    produce/feedback completed, but some records were rejected
  130  interrupted (Ctrl-C)
`;

function optionLines(options: Record<string, OptionSpec>): string[] {
  const entries = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`;
    return [flag, `${o.required ? '(required) ' : ''}${o.description}`] as const;
  });
  const width = Math.max(0, ...entries.map(([f]) => f.length));
  return entries.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

export function commandUsage(spec: CommandSpec): string {
  return `Usage: mlops ${spec.id}${spec.args ? ` ${spec.args}` : ''} [options]\n`;
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [commandUsage(spec), `${spec.summary[0].toUpperCase()}${spec.summary.slice(1)}.`];
  if (spec.details) lines.push('', spec.details);
  if (Object.keys(spec.options).length > 0)
    lines.push('', 'Options:', ...optionLines(spec.options));
  const urls = spec.services
    .map((s) => `--${SERVICES.find((x) => x.service === s)!.option} URL`)
    .join(', ');
  lines.push('', `Global options: --json, ${urls}, --api-key KEY (see mlops --help)`);
  lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

function commandList(specs: readonly CommandSpec[]): string[] {
  const heads = specs.map((c) => {
    const req = [
      ...c.positionals.filter((p) => p.required).map((p) => `<${p.name}>`),
      ...Object.entries(c.options)
        .filter(([, o]) => o.required)
        .map(([name, o]) => `--${name} ${o.value ?? ''}`.trim()),
    ];
    return `${c.id}${req.length ? ` ${req.join(' ')}` : ''}`;
  });
  const width = Math.max(...heads.map((h) => h.length));
  return specs.map((c, i) => `  ${heads[i].padEnd(width)}  ${c.summary}`);
}

export const TOP_USAGE = 'Usage: mlops <command> [arguments] [options]\n';

export function topHelp(): string {
  return [
    'mlops — the streaming MLOps platform from the command line',
    '',
    TOP_USAGE,
    'Commands:',
    ...commandList(COMMANDS),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    EXIT_CODES_HELP,
    "Run 'mlops <command> --help' for a command's options and examples.",
    '',
  ].join('\n');
}

function groupHelp(group: string): string {
  const specs = COMMANDS.filter((c) => c.id.startsWith(`${group} `));
  return [
    `Usage: mlops ${group} <subcommand> [arguments] [options]`,
    '',
    'Subcommands:',
    ...commandList(specs),
    '',
    `Run 'mlops ${group} <subcommand> --help' for its options.`,
    '',
  ].join('\n');
}

/** Edit distance, for "did you mean". */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
  return d[a.length][b.length];
}

function suggest(word: string, candidates: string[], prefix = ''): string {
  const best = candidates
    .map((c) => ({ c, d: distance(word, c) }))
    .filter((x) => x.d <= Math.max(1, Math.floor(x.c.length / 3)))
    .sort((a, b) => a.d - b.d)[0];
  return best ? ` (did you mean "${prefix}${best.c}"?)` : '';
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface Globals {
  json: boolean;
  apiKey?: string;
  urls: Record<ServiceName, string>;
}

export type Parsed =
  | { kind: 'help'; text: string }
  | {
      kind: 'command';
      spec: CommandSpec;
      id: CommandId;
      args: string[];
      opts: OptionValues;
      globals: Globals;
    };

function parse(
  argv: readonly string[],
  options: Record<string, OptionSpec>,
  strict: boolean,
): { values: OptionValues; positionals: string[] } {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, o] of Object.entries(options))
    config[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  const result = parseArgs({ args: [...argv], options: config, strict, allowPositionals: true });
  return { values: result.values, positionals: result.positionals };
}

/** Every option of every command with the globals; names never change type between commands. */
export function allOptions(): Record<string, OptionSpec> {
  const all: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  for (const c of COMMANDS)
    for (const [name, o] of Object.entries(c.options)) {
      if (all[name] && all[name].type !== o.type)
        throw new Error(`option --${name} is a ${all[name].type} and a ${o.type}`);
      all[name] ??= o;
    }
  return all;
}

type Found =
  { kind: 'command'; spec: CommandSpec; words: number } | { kind: 'group'; group: string };

function findCommand(positionals: string[]): Found {
  const [first, second] = positionals;
  const topWords = [...new Set(COMMANDS.map((c) => c.id.split(' ')[0]))];
  if ((GROUPS as readonly string[]).includes(first)) {
    const subs = COMMANDS.filter((c) => c.id.startsWith(`${first} `)).map(
      (c) => c.id.split(' ')[1],
    );
    if (second === undefined) return { kind: 'group', group: first };
    const spec = COMMANDS.find((c) => c.id === `${first} ${second}`);
    if (!spec)
      throw new UsageError(
        `unknown subcommand "${first} ${second}"${suggest(second, subs)}`,
        groupHelp(first),
      );
    return { kind: 'command', spec, words: 2 };
  }
  const spec = COMMANDS.find((c) => c.id === first);
  if (spec) return { kind: 'command', spec, words: 1 };
  throw new UsageError(
    `unknown command "${first}"${suggest(first, topWords)}`,
    TOP_USAGE + "Run 'mlops --help' for the commands.\n",
  );
}

/** The service URLs and credentials: options, then MLOPS_* environment, then defaults. */
export function resolveGlobals(
  values: OptionValues,
  env: Record<string, string | undefined>,
): Globals {
  const urls = {} as Record<ServiceName, string>;
  for (const s of SERVICES) {
    const given = values[s.option];
    const raw =
      (typeof given === 'string' ? given : undefined) ??
      (env[s.env] && env[s.env]!.trim() !== '' ? env[s.env]!.trim() : undefined) ??
      `http://127.0.0.1:${s.port}`;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UsageError(
        `${typeof given === 'string' ? `--${s.option}` : s.env} is not a URL: ${JSON.stringify(raw)}`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new UsageError(
        `${typeof given === 'string' ? `--${s.option}` : s.env} must be http(s): ${raw}`,
      );
    urls[s.service] = raw.replace(/\/+$/, '');
  }
  const key = typeof values['api-key'] === 'string' ? values['api-key'] : env.MLOPS_API_KEY;
  return { json: values.json === true, ...(key ? { apiKey: key } : {}), urls };
}

/** argv (without node and the script) → the command to run, or help to print. */
export function parseCommandLine(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): Parsed {
  // First pass: find the command words among the positionals, whatever the options are.
  let loose: { values: OptionValues; positionals: string[] };
  try {
    loose = parse(argv, allOptions(), false);
  } catch (err) {
    throw new UsageError((err as Error).message, TOP_USAGE);
  }
  const help = loose.values.help === true;
  if (loose.positionals.length === 0) {
    if (help) return { kind: 'help', text: topHelp() };
    throw new UsageError('no command given', topHelp());
  }
  if (loose.positionals[0] === 'help') {
    const rest = loose.positionals.slice(1);
    if (rest.length === 0) return { kind: 'help', text: topHelp() };
    const found = findCommand(rest);
    if (found.kind === 'group') return { kind: 'help', text: groupHelp(found.group) };
    return { kind: 'help', text: commandHelp(found.spec) };
  }
  const found = findCommand(loose.positionals);
  if (found.kind === 'group') {
    const { group } = found;
    if (help) return { kind: 'help', text: groupHelp(group) };
    throw new UsageError(`"mlops ${group}" needs a subcommand`, groupHelp(group));
  }
  const { spec, words } = found;
  if (help) return { kind: 'help', text: commandHelp(spec) };

  // Second pass, strict: the command's options and the globals only.
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parse(argv, { ...GLOBAL_OPTIONS, ...spec.options }, true);
  } catch (err) {
    throw new UsageError(cleanParseError(err as Error, spec), commandUsage(spec));
  }
  const args = parsed.positionals.slice(words);
  if (args.length > spec.positionals.length)
    throw new UsageError(
      `unexpected argument "${args[spec.positionals.length]}"`,
      commandUsage(spec),
    );
  const missing = spec.positionals.slice(args.length).find((p) => p.required);
  if (missing) throw new UsageError(`missing <${missing.name}>`, commandUsage(spec));
  for (const [name, o] of Object.entries(spec.options))
    if (o.required && (parsed.values[name] === undefined || parsed.values[name] === ''))
      throw new UsageError(`missing --${name}${o.value ? ` ${o.value}` : ''}`, commandUsage(spec));
  return {
    kind: 'command',
    spec,
    id: spec.id,
    args,
    opts: parsed.values,
    globals: resolveGlobals(parsed.values, env),
  };
}

function cleanParseError(err: Error, spec: CommandSpec): string {
  const code = (err as { code?: string }).code;
  const m = /'(-[^' ]+)/.exec(err.message);
  const flag = m?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
    return `unknown option ${flag} for "mlops ${spec.id}"${suggest(flag.replace(/^-+/, ''), Object.keys({ ...GLOBAL_OPTIONS, ...spec.options }), '--')}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = flag.replace(/^-+/, '').split('=')[0];
    const o = { ...GLOBAL_OPTIONS, ...spec.options }[name];
    if (o?.type === 'string') return `option --${name} needs a value (${o.value ?? 'VALUE'})`;
    if (o?.type === 'boolean') return `option --${name} takes no value`;
  }
  return err.message;
}

// Value checks shared by the commands; each throws a UsageError naming the option.

export function positiveInt(
  name: string,
  value: string | boolean | undefined,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value).trim();
  if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > max)
    throw new UsageError(
      `${name} must be a whole number from 1${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, not ${JSON.stringify(value)}`,
    );
  return Number(s);
}

const UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** "90s", "30m", "24h", "7d", "2w", "1.5h" → milliseconds. */
export function parseDuration(name: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(value.trim());
  if (!m || Number(m[1]) <= 0)
    throw new UsageError(
      `${name} must be a duration such as 30m, 24h or 7d, not ${JSON.stringify(value)}`,
    );
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}

/** A date or date-time (ISO 8601; without an offset it is UTC) → "…Z". */
export function parseTime(name: string, value: string): string {
  const v = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v))
    throw new UsageError(
      `${name} must be an ISO 8601 time such as 2026-01-01T10:00:00Z, not ${JSON.stringify(value)}`,
    );
  const hasTime = v.length > 10;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(v) && hasTime;
  const ms = Date.parse(hasTime && !hasZone ? `${v.replace(' ', 'T')}Z` : v.replace(' ', 'T'));
  if (Number.isNaN(ms))
    throw new UsageError(`${name} is not a valid time: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

export function oneOf<T extends string>(
  name: string,
  value: string | boolean | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(String(value)))
    throw new UsageError(
      `${name} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`,
    );
  return value as T;
}

/** The time range of `train`: --since D, or --from [--to]; none → undefined (everything). */
export function trainingRange(
  opts: { since?: string; from?: string; to?: string },
  now: number,
): { kind: 'time'; from: string; to: string } | undefined {
  if (opts.since !== undefined && (opts.from !== undefined || opts.to !== undefined))
    throw new UsageError('use --since, or --from/--to, not both');
  if (opts.since !== undefined) {
    const ms = parseDuration('--since', opts.since);
    return {
      kind: 'time',
      from: new Date(now - ms).toISOString(),
      to: new Date(now).toISOString(),
    };
  }
  if (opts.to !== undefined && opts.from === undefined) throw new UsageError('--to needs --from');
  if (opts.from !== undefined) {
    const from = parseTime('--from', opts.from);
    const to = opts.to !== undefined ? parseTime('--to', opts.to) : new Date(now).toISOString();
    if (Date.parse(from) >= Date.parse(to))
      throw new UsageError(`--from (${from}) must be before --to (${to})`);
    return { kind: 'time', from, to };
  }
  return undefined;
}

export function str(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
