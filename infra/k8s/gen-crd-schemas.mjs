#!/usr/bin/env node
// Turn CustomResourceDefinition YAML files into kubeconform-style JSON schemas, one per served
// version, laid out as {{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json
// (e.g. kafka.strimzi.io/kafka_v1.json, monitoring.coreos.com/servicemonitor_v1.json).
// Like kubeconform's scripts/openapi2jsonschema.py with DENY_ROOT_ADDITIONAL_PROPERTIES=1: additionalProperties:false on every object
// with properties (root included, so a misspelt `sepc:` is caught), and int-or-string -> oneOf.
// Go (RE2) inline case-insensitivity `(?i)` in a `pattern`, which JavaScript regexps (ajv) reject,
// is spelt out as character classes (e.g. PrometheusRule's `^(?i)(abort|warn)?$`).
// Usage: node gen-crd-schemas.mjs outDir crd.yaml... [--keep-descriptions]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const YAML = require('yaml');

const args = process.argv.slice(2);
const keepDescriptions = args.includes('--keep-descriptions');
const [outDir, ...files] = args.filter((a) => !a.startsWith('--'));

/**
 * A RE2 `pattern` as a JavaScript (ajv, `u` flag) one: `(?i)` turns every later letter of its
 * group into `[xX]` (inside a character class, the other case is added). Other inline flags throw.
 */
function jsPattern(pattern) {
  if (!pattern.includes('(?')) return pattern;
  const other = (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());
  const isLetter = (c) => /[A-Za-z]/.test(c);
  let out = '';
  const fold = []; // per open group: is (?i) in force
  let on = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      out += c + (pattern[i + 1] ?? '');
      i++;
    } else if (pattern.startsWith('(?i)', i)) {
      on = true;
      i += 3;
    } else if (c === '(' && pattern[i + 1] === '?' && pattern[i + 2] !== ':') {
      throw new Error(`unsupported inline flag in pattern ${pattern}`);
    } else if (c === '(') {
      fold.push(on);
      out += c;
    } else if (c === ')') {
      on = fold.pop() ?? false;
      out += c;
    } else if (c === '[') {
      // Copy the class; with (?i), add each letter's (or letter range's) other case.
      let j = i + 1;
      let body = '';
      if (pattern[j] === '^') body += pattern[j++];
      if (pattern[j] === ']') body += pattern[j++];
      let extra = '';
      while (j < pattern.length && pattern[j] !== ']') {
        if (pattern[j] === '\\') {
          body += pattern[j] + pattern[j + 1];
          j += 2;
          continue;
        }
        const ch = pattern[j];
        if (on && isLetter(ch) && pattern[j + 1] === '-' && isLetter(pattern[j + 2] ?? '')) {
          extra += `${other(ch)}-${other(pattern[j + 2])}`;
          body += pattern.slice(j, j + 3);
          j += 3;
          continue;
        }
        if (on && isLetter(ch)) extra += other(ch);
        body += ch;
        j++;
      }
      out += `[${body}${extra}]`;
      i = j;
    } else if (on && isLetter(c)) {
      out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
    } else {
      out += c;
    }
  }
  return out;
}

function clean(node) {
  if (Array.isArray(node)) return node.map((n) => clean(n));
  if (!node || typeof node !== 'object') return node;
  if (node['x-kubernetes-int-or-string'] === true) {
    const rest = clean(
      Object.fromEntries(
        Object.entries(node).filter(
          ([k]) => !['x-kubernetes-int-or-string', 'anyOf', 'type'].includes(k),
        ),
      ),
      false,
    );
    return { ...rest, oneOf: [{ type: 'string' }, { type: 'integer' }] };
  }
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'description' && !keepDescriptions) continue;
    if (k.startsWith('x-kubernetes-')) continue;
    if (k === 'pattern' && typeof v === 'string') {
      out[k] = jsPattern(v);
      continue;
    }
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, clean(s, false)]))
        : clean(v, false);
  }
  const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (out.properties && !preserve && !('additionalProperties' in out))
    out.additionalProperties = false;
  return out;
}

mkdirSync(outDir, { recursive: true });
for (const f of files) {
  for (const doc of YAML.parseAllDocuments(readFileSync(f, 'utf8'))) {
    const crd = doc.toJS();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    const { group, names } = crd.spec;
    for (const v of crd.spec.versions) {
      if (!v.served || !v.schema?.openAPIV3Schema) continue;
      const schema = clean(v.schema.openAPIV3Schema, true);
      schema.$schema = 'http://json-schema.org/draft-07/schema#';
      mkdirSync(join(outDir, group), { recursive: true });
      const file = join(group, `${names.kind.toLowerCase()}_${v.name}.json`);
      const text = JSON.stringify(schema) + '\n';
      writeFileSync(join(outDir, file), text);
      console.log(`${file}\t${text.length}`);
    }
  }
}
