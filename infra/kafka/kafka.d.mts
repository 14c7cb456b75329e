export interface BrokerSettings {
  port: number;
  controllerPort: number;
  dataDir: string;
  heap: string;
  brokers: string;
  pidFile: string;
  logFile: string;
  configFile: string;
  logDirs: string;
}
export function brokerSettings(env?: Record<string, string | undefined>): BrokerSettings;
export function ensureJars(): void;
export function start(
  env?: Record<string, string | undefined>,
  options?: { timeoutMs?: number },
): Promise<{ brokers: string; started: boolean; pid: number }>;
export function stop(
  env?: Record<string, string | undefined>,
  options?: { timeoutMs?: number },
): Promise<{ stopped: boolean }>;
export function status(
  env?: Record<string, string | undefined>,
): Promise<{ brokers: string; pid: number | null; answers: boolean }>;
