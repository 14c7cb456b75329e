import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '@mlops/observability';
import type { ModelDecisionEvent } from '@mlops/contracts';
import { REGISTRY_STORE } from '../config';
import { OutboxRelay } from '../outbox/outbox-relay';
import {
  InvalidError,
  NotFoundError,
  type Actor,
  type AliasChange,
  type RegistryStore,
} from '../store/registry-store';

export const PRODUCTION = 'production';
export const CANARY = 'canary';

/**
 * What the registry decides beyond storing: how a promote or a rollback turns into an alias
 * move. The store does the atomic work (alias, history, outbox); this tells the relay to
 * publish right away.
 */
@Injectable()
export class RegistryService {
  constructor(
    @Inject(REGISTRY_STORE) readonly store: RegistryStore,
    private readonly relay: OutboxRelay,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Call after any write that added to the outbox. */
  published(): void {
    this.relay.notify();
  }

  async setAlias(
    model: string,
    alias: string,
    version: number,
    actor: Actor,
    reason: string,
    idempotencyKey?: string,
  ): Promise<AliasChange> {
    const change = await this.store.setAlias(model, alias, version, actor, reason, idempotencyKey);
    if (change.sequence > 0) this.published();
    return change;
  }

  async deleteAlias(
    model: string,
    alias: string,
    actor: Actor,
    reason: string,
    idempotencyKey?: string,
  ): Promise<AliasChange> {
    const change = await this.store.deleteAlias(model, alias, actor, reason, idempotencyKey);
    if (change.sequence > 0) this.published();
    return change;
  }

  /**
   * The version a rollback of `alias` returns to: the version the alias pointed at before its
   * current one, skipping versions that no longer exist.
   */
  async rollbackTarget(model: string, alias: string): Promise<number> {
    const aliases = await this.store.getAliases(model);
    const current = aliases[alias];
    if (current === undefined)
      throw new InvalidError(`model ${model} has no alias ${alias} to roll back`);
    const history = await this.store.aliasHistory(model, alias, 1000);
    for (const entry of history) {
      if (
        entry.toVersion !== current ||
        entry.fromVersion === null ||
        entry.fromVersion === current
      )
        continue;
      try {
        await this.store.getVersion(model, entry.fromVersion);
        return entry.fromVersion;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    throw new InvalidError(`alias ${alias} of ${model} has no earlier version to roll back to`);
  }

  /**
   * Applies a decision from `models.decisions.v1` (or the REST equivalents). The event id
   * makes it idempotent: a redelivered decision changes nothing the second time.
   */
  async decide(
    decision: ModelDecisionEvent,
    actor: Actor,
    idempotencyKey?: string,
  ): Promise<AliasChange> {
    const { model, reason } = decision;
    switch (decision.action) {
      case 'set_alias': {
        if (!decision.alias || decision.version === undefined)
          throw new InvalidError('set_alias needs alias and version');
        return this.setAlias(
          model,
          decision.alias,
          decision.version,
          actor,
          reason,
          idempotencyKey,
        );
      }
      case 'delete_alias': {
        if (!decision.alias) throw new InvalidError('delete_alias needs alias');
        return this.deleteAlias(model, decision.alias, actor, reason, idempotencyKey);
      }
      case 'promote': {
        // production ← the judged version (or whatever the canary alias holds).
        let version = decision.version;
        if (version === undefined) {
          const from = decision.alias ?? CANARY;
          version = (await this.store.getAliases(model))[from];
          if (version === undefined)
            throw new InvalidError(`model ${model} has no alias ${from} to promote`);
        }
        return this.setAlias(model, PRODUCTION, version, actor, reason, idempotencyKey);
      }
      case 'rollback': {
        if (decision.alias === CANARY && decision.version === undefined) {
          // Rolling back the canary ends it: without the alias, its share of traffic returns
          // to production (there is no earlier canary to go back to). Idempotent by key like
          // the other branches: the store replays the change a key recorded, so a redelivered
          // decision returns the first removal instead of failing on the alias now gone.
          this.logger.info(
            { model, alias: CANARY, reason },
            'rolling back the canary: removing it',
          );
          return this.deleteAlias(model, CANARY, actor, reason, idempotencyKey);
        }
        const alias = decision.alias ?? PRODUCTION;
        if (idempotencyKey && (await this.store.aliasChangeByKey(idempotencyKey))) {
          // Already applied: computing the target again would move the alias a second time.
          return this.store.aliasChangeByKey(idempotencyKey).then((c) => c!);
        }
        const version = decision.version ?? (await this.rollbackTarget(model, alias));
        this.logger.info({ model, alias, to: version, reason }, 'rolling back');
        return this.setAlias(model, alias, version, actor, reason, idempotencyKey);
      }
    }
  }
}
