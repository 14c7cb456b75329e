import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { canonicalJson, DatasetSpec } from '@mlops/contracts';
import { InputError } from './errors';

/**
 * A dataset spec file as `mlops specs apply` reads it: YAML or JSON, checked against the same
 * schema the registry applies, and compared with the registry's latest version so that an
 * unchanged spec is not registered again (kubectl apply's "unchanged").
 */

/** The body to POST: the document without `version` (the registry assigns it). */
export function parseSpecText(text: string, source: string): Record<string, unknown> {
  let doc: unknown;
  const json = source.toLowerCase().endsWith('.json') || /^\s*[{[]/.test(text);
  try {
    doc = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const at = err.linePos?.[0];
      throw new InputError(
        `${source}${at ? ` line ${at.line}, column ${at.col}` : ''}: not valid YAML (${err.message.split('\n')[0]})`,
      );
    }
    // A .json file that is not JSON may still be YAML (a superset): try before giving up.
    try {
      doc = parseYaml(text);
    } catch {
      throw new InputError(`${source}: not valid JSON (${(err as Error).message})`);
    }
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new InputError(`${source}: a spec is an object with name and fields`);
  const { version: _ignored, ...body } = doc as Record<string, unknown>;
  return body;
}

/** The spec as the registry would store it under `version`, or every problem, one a line. */
export function checkSpec(body: Record<string, unknown>, source: string, version = 1): DatasetSpec {
  const parsed = DatasetSpec.safeParse({ ...body, version });
  if (!parsed.success)
    throw new InputError(
      `${source} is not a valid dataset spec:\n${z.prettifyError(parsed.error)}`,
    );
  return parsed.data;
}

/**
 * Whether registering `body` would store the same spec as `current` (the registry's latest):
 * both normalised by the schema (defaults filled in), compared as canonical JSON.
 */
export function sameSpec(body: Record<string, unknown>, current: DatasetSpec): boolean {
  const mine = DatasetSpec.safeParse({ ...body, version: current.version });
  const theirs = DatasetSpec.safeParse(current);
  if (!mine.success || !theirs.success) return false;
  return canonicalJson(mine.data) === canonicalJson(theirs.data);
}
