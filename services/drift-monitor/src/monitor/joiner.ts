/**
 * Joins late labels (feedback.v1) to the predictions they belong to (predictions.v1), whichever
 * arrives first, within a window of event time:
 *
 * - by request id when the label carries one: every prediction of that request (production,
 *   canary and shadow versions alike) for the label's entity — or row 0 of a one-row request,
 *   whose prediction may carry no entity id;
 * - else by entity: the latest prediction of the entity per model version, as a chargeback
 *   labels the transaction it follows.
 *
 * A prediction is labelled at most once. Unjoined predictions and labels expire once the newest
 * event time seen (the watermark) passes their `until` (their dataset's join window), and the
 * oldest are evicted beyond `maxPending` — both counted. Expiry walks arrival order, so an entry
 * with a longer window than the ones before it is only dropped once they are. Plain data, so the monitor's snapshot holds it as is.
 */

export interface PendingPrediction {
  /** `model@version`. */
  version: string;
  dataset: string | null;
  requestId: string;
  row: number;
  entityId: string | null;
  at: number;
  /** Dropped once the watermark passes this (its dataset's join window), ms. */
  until: number;
  /** What the metric needs: P(1), probability row or the prediction. */
  score: number | number[] | null;
}

export interface PendingLabel {
  dataset: string;
  entityId: string;
  requestId: string | null;
  label: number | string;
  /** When the label arrived (its event's time), ms. */
  at: number;
  until: number;
}

export interface Joined {
  prediction: PendingPrediction;
  label: number | string;
}

export interface JoinerState {
  predictions: PendingPrediction[];
  labels: PendingLabel[];
  watermark: number;
  expiredPredictions: number;
  expiredLabels: number;
  evicted: number;
}

const entityKey = (dataset: string | null, entityId: string) => `${dataset ?? ''}\u0000${entityId}`;

export class Joiner {
  private readonly byRequest = new Map<string, Set<PendingPrediction>>();
  /** Latest prediction per entity and version. */
  private readonly byEntity = new Map<string, Map<string, PendingPrediction>>();
  /** Arrival order, for expiry and eviction (entries already joined are skipped lazily). */
  private order: PendingPrediction[] = [];
  private readonly live = new Set<PendingPrediction>();
  private labels: PendingLabel[] = [];
  private watermark = 0;
  expiredPredictions = 0;
  expiredLabels = 0;
  evicted = 0;

  constructor(
    private readonly maxPending: number,
    state?: JoinerState,
  ) {
    if (state) {
      for (const p of state.predictions) this.index(p);
      this.labels = state.labels;
      this.watermark = state.watermark;
      this.expiredPredictions = state.expiredPredictions;
      this.expiredLabels = state.expiredLabels;
      this.evicted = state.evicted;
    }
  }

  get pendingPredictions(): number {
    return this.live.size;
  }

  get pendingLabels(): number {
    return this.labels.length;
  }

  /** A prediction arrives: joined at once with labels that came first, else kept. */
  addPrediction(p: PendingPrediction): Joined[] {
    this.advance(p.at);
    const joined: Joined[] = [];
    for (let i = 0; i < this.labels.length; i++) {
      const l = this.labels[i];
      // A label that came first names a prediction made before it, not a later one of the entity.
      if (p.at <= l.at && this.matches(l, p)) {
        joined.push({ prediction: p, label: l.label });
        break;
      }
    }
    if (joined.length > 0) return joined;
    this.index(p);
    this.evict();
    return joined;
  }

  /** A label arrives: joined with the pending predictions it names, else kept for them. */
  addLabel(l: PendingLabel): Joined[] {
    this.advance(l.at);
    const found: PendingPrediction[] = [];
    if (l.requestId !== null) {
      for (const p of this.byRequest.get(l.requestId) ?? []) if (this.matches(l, p)) found.push(p);
    } else {
      const latest = this.byEntity.get(entityKey(l.dataset, l.entityId));
      if (latest) found.push(...latest.values());
    }
    for (const p of found) this.remove(p);
    // Kept even when joined: a version whose prediction is still to come (a shadow scored a
    // little later) is labelled by it too. It expires like any label.
    this.labels.push(l);
    if (this.labels.length > this.maxPending) {
      this.labels.shift();
      this.evicted += 1;
    }
    return found.map((prediction) => ({ prediction, label: l.label }));
  }

  state(): JoinerState {
    return {
      predictions: this.order.filter((p) => this.live.has(p)),
      labels: this.labels,
      watermark: this.watermark,
      expiredPredictions: this.expiredPredictions,
      expiredLabels: this.expiredLabels,
      evicted: this.evicted,
    };
  }

  private matches(l: PendingLabel, p: PendingPrediction): boolean {
    if (p.dataset !== null && p.dataset !== l.dataset) return false;
    if (l.requestId !== null) {
      if (p.requestId !== l.requestId) return false;
      return p.entityId !== null ? p.entityId === l.entityId : p.row === 0;
    }
    return p.entityId === l.entityId;
  }

  private index(p: PendingPrediction): void {
    this.live.add(p);
    this.order.push(p);
    let r = this.byRequest.get(p.requestId);
    if (!r) this.byRequest.set(p.requestId, (r = new Set()));
    r.add(p);
    if (p.entityId !== null) {
      const key = entityKey(p.dataset, p.entityId);
      let e = this.byEntity.get(key);
      if (!e) this.byEntity.set(key, (e = new Map<string, PendingPrediction>()));
      const previous = e.get(p.version);
      // An older prediction of the entity is no longer the one a label by entity would name.
      if (!previous || previous.at <= p.at) e.set(p.version, p);
    }
  }

  private remove(p: PendingPrediction): void {
    if (!this.live.delete(p)) return;
    const r = this.byRequest.get(p.requestId);
    r?.delete(p);
    if (r && r.size === 0) this.byRequest.delete(p.requestId);
    this.dropFromEntity(p);
  }

  private dropFromEntity(p: PendingPrediction): void {
    if (p.entityId === null) return;
    const key = entityKey(p.dataset, p.entityId);
    const e = this.byEntity.get(key);
    if (e?.get(p.version) === p) {
      e.delete(p.version);
      if (e.size === 0) this.byEntity.delete(key);
    }
  }

  private advance(at: number): void {
    if (at <= this.watermark) return;
    this.watermark = at;
    let i = 0;
    while (i < this.order.length && (this.order[i].until < at || !this.live.has(this.order[i]))) {
      if (this.live.has(this.order[i])) {
        this.remove(this.order[i]);
        this.expiredPredictions += 1;
      }
      i += 1;
    }
    if (i > 0) this.order = this.order.slice(i);
    const before = this.labels.length;
    this.labels = this.labels.filter((l) => l.until >= at);
    this.expiredLabels += before - this.labels.length;
  }

  private evict(): void {
    while (this.live.size > this.maxPending && this.order.length > 0) {
      const p = this.order.shift()!;
      if (this.live.has(p)) {
        this.remove(p);
        this.evicted += 1;
      }
    }
  }
}
