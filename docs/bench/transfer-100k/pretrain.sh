#!/usr/bin/env bash
# Pre-train the runs of the transfer page (CIFAR-10, 100,000 images seen, seed 0), one at a time; resumable (a finished
# run is read back). The transfer columns are added afterwards by the same command with --labels (see transfer.md).
set -euo pipefail
cd "$(dirname "$0")/../../.."
for r in mim_pixel m3i mim_feature instance_discrimination sim_feature classification; do
  .venv/bin/m3i-ref bench quality --data-root "${DATA_ROOT:-../shared/data}" --images 100000 --runs "$r" --out docs/bench/transfer-100k
done
