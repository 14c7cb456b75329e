import { describe, expect, it } from 'vitest';
import { InvalidError } from '../store/registry-store';
import { likeToRegExp, parseFilter, parseOrderBy } from './filter';

describe('MLflow search filters', () => {
  it('parses clauses joined by AND, with quoting and escapes', () => {
    expect(parseFilter(`name = 'fraud' AND tags.team = "risk"`)).toEqual([
      { attribute: 'name', op: '=', values: ['fraud'] },
      { attribute: 'tags.team', op: '=', values: ['risk'] },
    ]);
    expect(parseFilter(`name LIKE 'fr%' and run_id IN ('a', "b",'c')`)).toEqual([
      { attribute: 'name', op: 'LIKE', values: ['fr%'] },
      { attribute: 'run_id', op: 'IN', values: ['a', 'b', 'c'] },
    ]);
    expect(parseFilter(`name = 'it\\'s'`)).toEqual([
      { attribute: 'name', op: '=', values: ["it's"] },
    ]);
    expect(parseFilter('version_number = 3')).toEqual([
      { attribute: 'version_number', op: '=', values: ['3'] },
    ]);
  });

  it('reads the tag forms the MLflow client sends', () => {
    expect(parseFilter("name LIKE 'churn%' AND tag.`mlflow.prompt.is_prompt` != 'true'")).toEqual([
      { attribute: 'name', op: 'LIKE', values: ['churn%'] },
      { attribute: 'tags.mlflow.prompt.is_prompt', op: '!=', values: ['true'] },
    ]);
    expect(parseFilter("tags.`a key` ILIKE 'x'")).toEqual([
      { attribute: 'tags.a key', op: 'ILIKE', values: ['x'] },
    ]);
  });

  it('treats an empty filter as no clause', () => {
    expect(parseFilter(undefined)).toEqual([]);
    expect(parseFilter('   ')).toEqual([]);
  });

  it.each([
    ["name ~ 'x'", /expected =, !=, LIKE, ILIKE or IN/],
    ["name = 'x' OR name = 'y'", /only AND joins clauses/],
    ['name = x', /expected a quoted value/],
    ["run_id IN ('a'", /unclosed IN list/],
    ["run_id IN 'a'", /IN needs a parenthesised list/],
    ["= 'x'", /expected an attribute/],
  ])('refuses %s', (filter, message) => {
    expect(() => parseFilter(filter)).toThrow(InvalidError);
    expect(() => parseFilter(filter)).toThrow(message);
  });

  it('turns LIKE patterns into anchored expressions with regex characters escaped', () => {
    expect(likeToRegExp('fr%', false).test('fraud')).toBe(true);
    expect(likeToRegExp('fr%', false).test('Fraud')).toBe(false);
    expect(likeToRegExp('fr%', true).test('Fraud')).toBe(true);
    expect(likeToRegExp('a_c', false).test('abc')).toBe(true);
    expect(likeToRegExp('a_c', false).test('abbc')).toBe(false);
    expect(likeToRegExp('v1.0', false).test('v1x0')).toBe(false);
  });

  it('maps order_by clauses to store fields, ascending by default', () => {
    const fields = { name: 'name', version_number: 'version' } as const;
    expect(parseOrderBy(['name', 'version_number DESC'], fields)).toEqual([
      { field: 'name', direction: 'asc' },
      { field: 'version', direction: 'desc' },
    ]);
    expect(parseOrderBy(undefined, fields)).toEqual([]);
    expect(() => parseOrderBy(['size DESC'], fields)).toThrow(
      /allowed fields: name, version_number/,
    );
  });
});
