import { Controller, Get, Head, Headers, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiError } from '@mlops/nest-kit';
import { artifactUri, SHA256_HEX, type ArtifactStore } from '../artifacts/artifact-store';
import { ARTIFACT_STORE, REGISTRY_CONFIG, type RegistryConfig } from '../config';

/**
 * Artifacts stream through the registry into a content-addressed store: the uploader declares
 * the sha256, the registry computes it while writing and keeps the bytes only when both agree.
 */
@ApiTags('artifacts')
@Controller('v1/artifacts')
export class ArtifactsController {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Upload an artifact (raw bytes); X-Artifact-Sha256 declares its hash' })
  @ApiHeader({
    name: 'X-Artifact-Sha256',
    required: true,
    description: 'sha256 of the body, 64 lower-case hex digits',
  })
  async upload(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Headers('x-artifact-sha256') declared: string | undefined,
  ) {
    if (!declared || !SHA256_HEX.test(declared)) {
      req.resume();
      throw new ApiError(
        400,
        'missing_digest',
        'X-Artifact-Sha256 must give the sha256 of the body as 64 lower-case hex digits',
      );
    }
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length > this.config.ARTIFACT_MAX_BYTES) {
      req.resume();
      throw new ApiError(
        413,
        'payload_too_large',
        `the artifact is ${length} bytes; the limit is ${this.config.ARTIFACT_MAX_BYTES}`,
      );
    }
    const stored = await this.artifacts.put(req, declared, this.config.ARTIFACT_MAX_BYTES);
    res.status(stored.created ? 201 : 200);
    res.setHeader('Location', artifactUri(stored.sha256));
    return { uri: artifactUri(stored.sha256), sha256: stored.sha256, size: stored.size };
  }

  @Head(':sha256')
  async head(@Param('sha256') sha256: string, @Req() req: Request, @Res() res: Response) {
    await this.send(sha256, req, res, false);
  }

  @Get(':sha256')
  @ApiOperation({ summary: 'Download an artifact (ETag is its sha256; If-None-Match answers 304)' })
  async download(@Param('sha256') sha256: string, @Req() req: Request, @Res() res: Response) {
    await this.send(sha256, req, res, true);
  }

  private async send(sha256: string, req: Request, res: Response, body: boolean): Promise<void> {
    const blob = await this.artifacts.stat(sha256);
    if (!blob)
      throw new ApiError(404, 'not_found', `no artifact with sha256 ${sha256.slice(0, 64)}`);
    const etag = `"${blob.sha256}"`;
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(blob.size));
    res.setHeader('X-Artifact-Sha256', blob.sha256);
    if (!body) {
      res.status(200).end();
      return;
    }
    res.status(200);
    const stream = this.artifacts.open(sha256);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }
}
