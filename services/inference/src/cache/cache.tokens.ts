/** The injection token of the response cache (in-process LRU, or Redis when REDIS_URL is set). */
export const PREDICTION_CACHE = Symbol('PREDICTION_CACHE');
