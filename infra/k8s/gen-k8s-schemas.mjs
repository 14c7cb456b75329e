#!/usr/bin/env node
// Turn Kubernetes swagger.json (api/openapi-spec/swagger.json from the k8s.io/kubernetes Go
// module zip) into kubeconform-style standalone-strict JSON schemas, for a chosen list of kinds.
// Output names follow kubeconform's default template: {{kind}}{{KindSuffix}}.json, i.e.
//   deployment-apps-v1.json, service-v1.json, networkpolicy-networking-v1.json
// Usage: node gen-k8s-schemas.mjs swagger.json outDir [--keep-descriptions]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [swaggerPath, outDir, ...flags] = process.argv.slice(2);
const keepDescriptions = flags.includes('--keep-descriptions');
const swagger = JSON.parse(readFileSync(swaggerPath, 'utf8'));
const defs = swagger.definitions;

// group/version/kind we want (group '' = core)
const WANTED = [
  ['', 'v1', 'Namespace'],
  ['', 'v1', 'ServiceAccount'],
  ['', 'v1', 'Service'],
  ['', 'v1', 'ConfigMap'],
  ['', 'v1', 'Secret'],
  ['', 'v1', 'PersistentVolumeClaim'],
  ['apps', 'v1', 'Deployment'],
  ['apps', 'v1', 'StatefulSet'],
  ['batch', 'v1', 'Job'],
  ['batch', 'v1', 'CronJob'],
  ['policy', 'v1', 'PodDisruptionBudget'],
  ['autoscaling', 'v2', 'HorizontalPodAutoscaler'],
  ['networking.k8s.io', 'v1', 'NetworkPolicy'],
  ['networking.k8s.io', 'v1', 'Ingress'],
  ['rbac.authorization.k8s.io', 'v1', 'Role'],
  ['rbac.authorization.k8s.io', 'v1', 'RoleBinding'],
];

const SPECIAL = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': () => ({
    oneOf: [{ type: 'string' }, { type: 'integer' }],
  }),
  'io.k8s.apimachinery.pkg.api.resource.Quantity': () => ({
    oneOf: [{ type: 'string' }, { type: 'number' }],
  }),
};

function inline(node, stack) {
  if (Array.isArray(node)) return node.map((n) => inline(n, stack));
  if (!node || typeof node !== 'object') return node;
  if (node.$ref) {
    const name = node.$ref.replace('#/definitions/', '');
    if (SPECIAL[name]) return SPECIAL[name]();
    if (stack.includes(name)) return {}; // recursive type (e.g. JSONSchemaProps): accept anything
    const { $ref: _ref, ...rest } = node;
    return { ...inline(defs[name], [...stack, name]), ...inline(rest, stack) };
  }
  if (node.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'description' && !keepDescriptions) continue;
    if (k.startsWith('x-kubernetes-')) continue; // not JSON Schema; ajv strict mode rejects them
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, inline(s, stack)]))
        : inline(v, stack);
  }
  return out;
}

// strict: objects that list properties accept no others; optional fields may be null
function strictify(node) {
  if (Array.isArray(node)) return node.forEach(strictify);
  if (!node || typeof node !== 'object') return;
  if (node.properties) {
    if (!('additionalProperties' in node)) node.additionalProperties = false;
    const req = new Set(node.required ?? []);
    for (const [p, s] of Object.entries(node.properties)) {
      if (!req.has(p) && typeof s.type === 'string') s.type = [s.type, 'null'];
    }
  }
  for (const v of Object.values(node)) strictify(v);
}

mkdirSync(outDir, { recursive: true });
let total = 0;
for (const [group, version, kind] of WANTED) {
  const entry = Object.entries(defs).find(([, d]) =>
    (d['x-kubernetes-group-version-kind'] ?? []).some(
      (g) => g.group === group && g.version === version && g.kind === kind,
    ),
  );
  if (!entry) {
    console.error(`missing ${group}/${version} ${kind}`);
    process.exitCode = 1;
    continue;
  }
  const schema = inline(entry[1], [entry[0]]);
  strictify(schema);
  const apiVersion = group ? `${group}/${version}` : version;
  schema.properties.apiVersion = { type: 'string', enum: [apiVersion] };
  schema.properties.kind = { type: 'string', enum: [kind] };
  schema.required = [...new Set([...(schema.required ?? []), 'apiVersion', 'kind'])];
  schema.$schema = 'http://json-schema.org/draft-07/schema#';
  const suffix = group ? `-${group.split('.')[0]}-${version}` : `-${version}`;
  const file = `${kind.toLowerCase()}${suffix}.json`;
  const text = JSON.stringify(schema) + '\n';
  writeFileSync(join(outDir, file), text);
  total += text.length;
  console.log(`${file}\t${text.length}`);
}
console.log(`total bytes\t${total}`);
