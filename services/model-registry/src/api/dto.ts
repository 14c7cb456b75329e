import { z } from 'zod';
import {
  ALIAS_NAME,
  ArtifactRef,
  MODEL_NAME,
  ModelDecisionEvent,
  OffsetRange,
} from '@mlops/contracts';

const tags = z.record(z.string().min(1).max(250), z.string().max(5000));

export const CreateModelBody = z.object({
  name: z
    .string()
    .regex(MODEL_NAME, 'a model name is letters, digits, ".", "_" or "-" (128 at most)'),
  description: z.string().max(5000).optional(),
  tags: tags.optional(),
});

export const UpdateModelBody = z.object({ description: z.string().max(5000) });

export const CreateVersionBody = z.object({
  description: z.string().max(5000).optional(),
  artifact: ArtifactRef.optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  tags: tags.optional(),
  parentVersion: z.number().int().positive().optional(),
  variant: z.string().min(1).max(64).optional(),
  dataset: z.string().max(63).optional(),
  datasetSpecVersion: z.number().int().positive().optional(),
  featuresetVersion: z.string().max(256).optional(),
  trainedOn: z.array(OffsetRange).optional(),
  sourceJob: z.string().max(256).optional(),
});

export const UpdateVersionBody = z
  .object({
    description: z.string().max(5000).optional(),
    status: z.enum(['PENDING_REGISTRATION', 'READY', 'FAILED_REGISTRATION']).optional(),
  })
  .refine((b) => b.description !== undefined || b.status !== undefined, 'nothing to update');

export const SetAliasBody = z.object({
  version: z.number().int().positive(),
  reason: z.string().min(1).max(2000).default('set through the API'),
});

export const DeleteAliasBody = z
  .object({ reason: z.string().min(1).max(2000).default('deleted through the API') })
  .default({ reason: 'deleted through the API' });

export const DecisionBody = ModelDecisionEvent.omit({ model: true, decidedBy: true });

export const TagBody = z.object({ value: z.string().max(5000) });

export const aliasParam = z
  .string()
  .regex(ALIAS_NAME, 'an alias is lower case letters, digits, _ or -');
export const versionParam = z.coerce.number().int().positive();
