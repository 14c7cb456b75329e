export const ONLINE_STORE = Symbol('ONLINE_STORE');
