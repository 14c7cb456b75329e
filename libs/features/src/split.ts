import { hash53 } from '@mlops/ml';
import type { Split } from './matrix';

export interface SplitOptions {
  validation: number;
  test: number;
  seed: number;
}

/**
 * The split an entity belongs to, from a hash of its id: deterministic (a refit of the same
 * range gives the same matrix) and by entity, so no card's transactions leak from training into
 * the test rows. u = hash53(seed:entity) / 2⁵³ is uniform on [0, 1): test below `test`,
 * validation below `test + validation`, train above.
 */
export function splitOf(entityId: string, o: SplitOptions): Split {
  const u = hash53(`${o.seed}:${entityId}`) / 2 ** 53;
  if (u < o.test) return 'test';
  if (u < o.test + o.validation) return 'validation';
  return 'train';
}
