#!/bin/sh
# Lays out, in a directory, what the Dockerfile's runtime stage holds at /app — for machines
# without a Docker engine (like this project's CI machines): the committed sources, `npm ci` with
# onnxruntime's CUDA download skipped, the SWC build, a production-only node_modules with the
# same trimming, and only dist/libs, dist/services and package.json. The Kubernetes parity test
# then runs every service from it through the image's launcher:
#
#   sh infra/docker/app-tree.sh /tmp/mlops-app
#   MLOPS_APP_DIR=/tmp/mlops-app npx vitest run --project e2e test/k8s-parity.e2e.spec.ts
#
# Keep the steps in step with the Dockerfile's.
set -eu
out="${1:?usage: app-tree.sh <empty output directory>}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

export ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# deps + build
mkdir -p "$work/build"
git -C "$repo" archive HEAD | tar -x -C "$work/build"
(cd "$work/build" && npm ci --loglevel=error && node infra/scripts/build.mjs)

# prod-deps
mkdir -p "$work/prod"
cp "$work/build/package.json" "$work/build/package-lock.json" "$work/prod/"
cp -R "$work/build/node_modules" "$work/prod/"
(
  cd "$work/prod"
  npm prune --omit=dev --loglevel=error
  rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32
  rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
    node_modules/better-sqlite3/build/Release/obj node_modules/better-sqlite3/build/Release/obj.target \
    node_modules/better-sqlite3/build/Release/.deps node_modules/better-sqlite3/build/deps
)

# runtime
mkdir -p "$out/dist"
cp -R "$work/prod/node_modules" "$out/"
cp -R "$work/build/dist/libs" "$work/build/dist/services" "$out/dist/"
cp "$work/build/package.json" "$out/"
echo "app tree in $out: $(du -sh "$out" | cut -f1)"
