#!/usr/bin/env node
// Turn CustomResourceDefinition YAML files into kubeconform-style JSON schemas, one per served
// version, laid out as {{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json
// (e.g. kafka.strimzi.io/kafka_v1.json, monitoring.coreos.com/servicemonitor_v1.json).
// Like kubeconform's scripts/openapi2jsonschema.py with DENY_ROOT_ADDITIONAL_PROPERTIES=1: additionalProperties:false on every object
// with properties (root included, so a misspelt `sepc:` is caught), and int-or-string -> oneOf.
// Usage: node gen-crd-schemas.mjs outDir crd.yaml... [--keep-descriptions]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const YAML = require('yaml');

const args = process.argv.slice(2);
const keepDescriptions = args.includes('--keep-descriptions');
const [outDir, ...files] = args.filter((a) => !a.startsWith('--'));

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
