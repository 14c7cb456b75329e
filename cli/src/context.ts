import type { CommandId, CommandSpec, Globals, OptionValues } from './args';
import { DriftClient } from './clients/drift';
import { FeatureClient } from './clients/feature';
import { InferenceClient } from './clients/inference';
import { IngestionClient } from './clients/ingestion';
import { CompressorClient, TrainerClient } from './clients/jobs';
import { RegistryClient } from './clients/registry';
import type { HttpFn } from './http';

/** A readable input: a file or stdin, as text chunks, with its size when known. */
export interface Input {
  source: string;
  chunks: AsyncIterable<string>;
  /** Bytes of a regular file; undefined for stdin and pipes. */
  size?: number;
  bytesRead(): number;
}

/** Everything a command touches outside itself; tests give fakes. */
export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  stderrIsTTY: boolean;
  columns(): number;
  /** A file (or "-" for stdin) as text. */
  readText(path: string): Promise<string>;
  /** A file (or "-" for stdin) as a stream of chunks. */
  openInput(path: string): Promise<Input>;
}

export interface Deps {
  io: Io;
  env: Record<string, string | undefined>;
  http: HttpFn;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /**
   * Asks for Ctrl-C to be handled by the command (produce finishes its batch and prints what it
   * sent) rather than ending the process: the signal is aborted on the first Ctrl-C.
   */
  trapInterrupt?: () => AbortSignal;
}

export interface Context extends Deps {
  id: CommandId;
  spec: CommandSpec;
  args: string[];
  opts: OptionValues;
  globals: Globals;
  json: boolean;
  registry: RegistryClient;
  ingestion: IngestionClient;
  inference: InferenceClient;
  drift: DriftClient;
  feature: FeatureClient;
  trainer: TrainerClient;
  compressor: CompressorClient;
  /** Prints `data` as JSON (--json) or the text `render` makes of it. */
  emit(data: unknown, render: () => string): void;
}

export function makeContext(
  deps: Deps,
  parsed: {
    id: CommandId;
    spec: CommandSpec;
    args: string[];
    opts: OptionValues;
    globals: Globals;
  },
): Context {
  const { globals } = parsed;
  const options = { http: deps.http, ...(globals.apiKey ? { apiKey: globals.apiKey } : {}) };
  return {
    ...deps,
    ...parsed,
    json: globals.json,
    registry: new RegistryClient(globals.urls.registry, options),
    ingestion: new IngestionClient(globals.urls.ingestion, options),
    inference: new InferenceClient(globals.urls.inference, options),
    drift: new DriftClient(globals.urls['drift-monitor'], options),
    feature: new FeatureClient(globals.urls.feature, options),
    trainer: new TrainerClient(globals.urls.trainer, options),
    compressor: new CompressorClient(globals.urls.compressor, options),
    emit(data, render) {
      if (globals.json) deps.io.stdout(`${JSON.stringify(data, null, 2)}\n`);
      else deps.io.stdout(render());
    },
  };
}
