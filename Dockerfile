# syntax=docker/dockerfile:1
#
# One image for the whole platform: the eight services (and the trainer's one-shot trial entry)
# share node_modules and dist/, and the container's argument picks the service.
#
# Build (BuildKit, the default builder of current Docker):
#   docker build -t mlops-platform:0.1.0 .
#
# Run one service (the launcher takes the service as its argument, else from $SERVICE):
#   docker run --rm -p 3001:3001 -e HOST=0.0.0.0 -e KAFKA_BROKERS=host.docker.internal:9092 \
#     mlops-platform:0.1.0 ingestion
#   docker run --rm -e SERVICE=inference -e HOST=0.0.0.0 … mlops-platform:0.1.0
# Services: ingestion data-quality feature trainer compressor model-registry inference
# drift-monitor; `trainer-trial` runs dist/services/trainer/src/trial.js (docs/training.md).
# Without an argument or SERVICE it prints that list and exits 64. Every service listens on
# 127.0.0.1 unless HOST says otherwise (the Kubernetes ConfigMaps set HOST=0.0.0.0). The
# launcher (infra/docker/entrypoint.sh) caps V8's old space at 3/4 of the container's memory
# limit; NODE_OPTIONS=--max-old-space-size=<MiB> overrides it.
#
# Load it into a local cluster for k8s/ (the Deployments use mlops-platform:0.1.0 with
# imagePullPolicy IfNotPresent, so a loaded image is used as is):
#   kind load docker-image mlops-platform:0.1.0 [--name <cluster>]
#   minikube image load mlops-platform:0.1.0
#   (or build inside minikube's daemon: eval "$(minikube docker-env)" && docker build …)
#
# No secret goes into the image: API keys, database URLs and Kafka credentials come from the
# environment (Kubernetes Secrets) at run time.

ARG NODE_BUILD_IMAGE=node:20-bookworm
ARG NODE_RUNTIME_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# deps: every dependency, dev ones included (SWC builds dist/).
# The full bookworm image carries python3, make and g++, which better-sqlite3 falls back to
# (node-gyp) when its prebuilt binary cannot be downloaded. Build and runtime are both Debian
# bookworm, so the native addons (better-sqlite3, onnxruntime-node) link against the same glibc.
FROM ${NODE_BUILD_IMAGE} AS deps
WORKDIR /app
# npm 11 reads package.json's `"allowScripts": { "onnxruntime-node": false }` and skips
# onnxruntime-node's postinstall, which only downloads CUDA binaries (the CPU binaries are in the
# npm package). node:20 ships npm 10, which ignores allowScripts, hence npm 11, and the
# installer's own switches as well, so the download is skipped whichever npm runs.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
RUN npm install -g npm@11
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci

# ---------------------------------------------------------------------------------------------
# build: dist/ with SWC (infra/scripts/build.mjs; types are checked in CI by `npm run build`,
# which adds --typecheck).
FROM deps AS build
COPY . .
RUN node infra/scripts/build.mjs

# ---------------------------------------------------------------------------------------------
# prod-deps: the same node_modules without devDependencies (native addons already built), and
# without onnxruntime-node's macOS and Windows binaries (~220 MB nobody loads on Linux).
FROM deps AS prod-deps
RUN npm prune --omit=dev \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32 \
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
           node_modules/better-sqlite3/build/Release/obj node_modules/better-sqlite3/build/Release/obj.target \
           node_modules/better-sqlite3/build/Release/.deps node_modules/better-sqlite3/build/deps

# ---------------------------------------------------------------------------------------------
# runtime: production node_modules, the compiled libs and services, package.json. Nothing else
# is read at run time: worker-thread files (train.worker.js, compress.worker.js, ort.worker.js,
# request-decoder.worker.js, log-sink.worker.js) sit next to their callers in dist/services;
# tfjs's .wasm files and onnxruntime's shared libraries are inside their packages in
# node_modules; pluggable text embedders are resolved from the working directory (/app).
# Files belong to root and are read-only for the `node` user (uid 1000) the services run as, so
# the Kubernetes pods can also mount the root filesystem read-only.
FROM ${NODE_RUNTIME_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/libs ./dist/libs
COPY --from=build /app/dist/services ./dist/services
COPY package.json ./
COPY --chmod=0755 infra/docker/entrypoint.sh /usr/local/bin/mlops-entrypoint
# The model registry's default state directory (data/registry: SQLite and artifacts) for
# `docker run -v mlops-registry:/app/data`; Kubernetes mounts a volume elsewhere and sets
# REGISTRY_SQLITE_PATH and ARTIFACT_DIR.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
# ingestion data-quality feature trainer compressor model-registry inference drift-monitor
EXPOSE 3001 3002 3003 3004 3005 3006 3007 3008
ENTRYPOINT ["/usr/local/bin/mlops-entrypoint"]
CMD []
