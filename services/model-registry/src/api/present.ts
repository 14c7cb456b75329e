import type {
  AliasChange,
  AliasHistoryEntry,
  DatasetSpecRecord,
  ModelVersion,
  RegisteredModel,
} from '../store/registry-store';

const iso = (ms: number) => new Date(ms).toISOString();

/** The `/v1` JSON of a registered model. */
export function presentModel(m: RegisteredModel, aliases: Record<string, number>) {
  return {
    name: m.name,
    description: m.description,
    tags: m.tags,
    latestVersion: m.latestVersion,
    aliases,
    createdAt: iso(m.createdAt),
    updatedAt: iso(m.updatedAt),
  };
}

export function presentVersion(v: ModelVersion, aliases: Record<string, number> = {}) {
  return {
    model: v.model,
    version: v.version,
    status: v.status,
    description: v.description,
    aliases: Object.entries(aliases)
      .filter(([, n]) => n === v.version)
      .map(([a]) => a)
      .sort(),
    artifact: v.artifact,
    params: v.params,
    metrics: v.metrics,
    tags: v.tags,
    parentVersion: v.parentVersion,
    variant: v.variant,
    lineage: {
      dataset: v.dataset,
      datasetSpecVersion: v.datasetSpecVersion,
      featuresetVersion: v.featuresetVersion,
      trainedOn: v.trainedOn,
      sourceJob: v.sourceJob,
    },
    creator: v.creator,
    createdAt: iso(v.createdAt),
    updatedAt: iso(v.updatedAt),
  };
}

export function presentAliasChange(c: AliasChange) {
  return { model: c.model, alias: c.alias, from: c.from, to: c.to, aliases: c.aliases };
}

export function presentHistory(h: AliasHistoryEntry) {
  return {
    alias: h.alias,
    from: h.fromVersion,
    to: h.toVersion,
    at: iso(h.at),
    actor: h.actor,
    reason: h.reason,
  };
}

export function presentSpec(s: DatasetSpecRecord) {
  return {
    name: s.name,
    version: s.version,
    createdAt: iso(s.createdAt),
    createdBy: s.createdBy,
    spec: s.spec,
  };
}
