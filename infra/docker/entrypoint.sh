#!/bin/sh
# The image's launcher: one image, every service. The service is the first argument (what the
# Kubernetes Deployments pass as `args: ["<service>"]`), else $SERVICE (for
# `docker run -e SERVICE=inference …`). `exec` makes node PID 1, so SIGTERM reaches the
# service's own shutdown (finish and commit batches, flush the producer).
set -eu

# Where the image keeps dist/ (MLOPS_APP_DIR lets the repository's parity test run this very
# launcher on a checkout).
app="${MLOPS_APP_DIR:-/app}"

SERVICES="ingestion data-quality feature trainer compressor model-registry inference drift-monitor"

if [ "$#" -gt 0 ]; then
  service="$1"
  shift
else
  service="${SERVICE:-}"
fi

# V8 sizes its heap from the machine's memory, not the container's limit: cap the old space at
# three quarters of the cgroup memory limit, so that garbage collection works harder before the
# kernel's OOM killer would. NODE_OPTIONS with its own --max-old-space-size wins.
heap=""
case "${NODE_OPTIONS:-}" in
  *max-old-space-size*) ;;
  *)
    limit=""
    if [ -r /sys/fs/cgroup/memory.max ]; then
      limit="$(cat /sys/fs/cgroup/memory.max)"
    elif [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
      limit="$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
    fi
    case "$limit" in
      "" | max | *[!0-9]*) ;;
      *)
        # cgroup v1 reports "no limit" as a huge number; anything from 1 TiB up is no limit.
        if [ "$limit" -lt 1099511627776 ]; then
          heap="--max-old-space-size=$((limit / 1048576 * 3 / 4))"
        fi
        ;;
    esac
    ;;
esac

case "$service" in
  ingestion | data-quality | feature | trainer | compressor | model-registry | inference | drift-monitor)
    exec node $heap "$app/dist/services/$service/src/main.js" "$@"
    ;;
  trainer-trial)
    # One training trial as a process (a Kubernetes Job per trial): docs/training.md.
    exec node $heap "$app/dist/services/trainer/src/trial.js" "$@"
    ;;
  *)
    if [ -n "$service" ]; then echo "mlops-platform: unknown service \"$service\"" >&2; fi
    echo "usage: <image> SERVICE   (or the environment variable SERVICE)" >&2
    echo "services: $SERVICES trainer-trial" >&2
    exit 64
    ;;
esac
