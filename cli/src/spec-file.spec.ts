import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetSpec } from '@mlops/contracts';
import { InputError } from './errors';
import { interpretRow } from './pinned';
import { checkSpec, parseSpecText, sameSpec } from './spec-file';

const example = readFileSync(path.join(__dirname, '../../examples/specs/cards.json'), 'utf8');

describe('parseSpecText', () => {
  it('reads JSON and YAML, dropping the version the registry assigns', () => {
    const body = parseSpecText(example, 'cards.json');
    expect(body.version).toBeUndefined();
    expect(body.name).toBe('cards');
    expect(
      parseSpecText(
        'name: clicks\nversion: 7\nfields:\n  - {name: id, type: entity_id}\n',
        'c.yaml',
      ),
    ).toEqual({ name: 'clicks', fields: [{ name: 'id', type: 'entity_id' }] });
  });

  it('names the line of a YAML error, and refuses a document that is not an object', () => {
    expect(() => parseSpecText('name: x\nfields: [a\n', 's.yaml')).toThrow(
      /^s\.yaml line \d+, column \d+: not valid YAML/,
    );
    expect(() => parseSpecText('- a\n- b\n', 's.yaml')).toThrow(
      new InputError('s.yaml: a spec is an object with name and fields'),
    );
  });
});

describe('checkSpec / sameSpec', () => {
  it('lists every problem the schema finds', () => {
    expect(() => checkSpec({ name: 'Bad', fields: [] }, 'x.yaml')).toThrow(
      /x\.yaml is not a valid dataset spec:\n[\s\S]*name[\s\S]*fields/,
    );
  });

  it('finds the example spec unchanged against its registered form, defaults and key order aside', () => {
    const body = parseSpecText(example, 'cards.json');
    const registered = DatasetSpec.parse({ ...body, version: 5 });
    expect(sameSpec(body, registered)).toBe(true);
    // The same content written with the defaults spelled out and keys in another order.
    const spelled = { unknownFields: 'reject', coerce: true, ...body };
    expect(sameSpec(spelled, registered)).toBe(true);
    expect(sameSpec({ ...body, unknownFields: 'drop' }, registered)).toBe(false);
    expect(sameSpec({ ...body, description: 'changed' }, registered)).toBe(false);
  });
});

describe('interpretRow', () => {
  it('reads binary, multiclass and regression outputs as the inference service does', () => {
    const binary = [{ name: 'probability', datatype: 'FP32', shape: [2, 1], data: [0.2, 0.8] }];
    expect(interpretRow(binary, 1, ['no', 'yes'])).toEqual({ score: 0.8, label: 'yes' });
    expect(interpretRow(binary, 0, null)).toEqual({ score: 0.2, label: 0 });
    const multi = [
      { name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: [0.1, 0.7, 0.2] },
    ];
    expect(interpretRow(multi, 0, ['a', 'b', 'c'])).toEqual({ score: 0.7, label: 'b' });
    const regression = [{ name: 'prediction', datatype: 'FP32', shape: [2, 1], data: [1.5, 2.5] }];
    expect(interpretRow(regression, 1, null)).toEqual({ score: 2.5, label: null });
  });
});
