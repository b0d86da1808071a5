#!/usr/bin/env bash
# MoCo v3 (id_variant=mocov3, its recipe exactly) against MoCo ('moco', our one-directional InfoNCE) on CIFAR-10 (JPEG copy)
# at 100,000 images, seeds 1 and 2; seed 0 of each is already measured (MoCo: the benchmark's seed-0 run,
# docs/results/cifar10/100k/seed0; MoCo v3: our side of the outside-reference page, docs/results/outside/cifar10/100k/ours).
# One `m3i-ref bench quality` folder per variant and seed under runs/ (resumable: a finished run is read back).
# Then: python docs/results/ablations/cifar/mocov3/report.py (writes mocov3.md and mocov3.json).
# Usage: bash docs/results/ablations/cifar/mocov3/run.sh   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref for another install)
# Run alone on the machine: the seconds column is only comparable between runs made alone (2 threads on 2 cores here).
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
here=docs/results/ablations/cifar/mocov3
for seed in 1 2; do
  for v in moco mocov3; do
    "$M3I" bench quality --data-root "${M3I_DATA:-../shared/data}" --images 100000 --runs instance_discrimination \
      --out "$here/runs/$v/seed$seed" --set id_variant=$v --set seed=$seed
    rm -rf "$here/runs/$v/seed$seed/ckpt" "$here/runs/$v/seed$seed/quality.png"   # not kept: the checkpoint, the one-bar plot
  done
done
.venv/bin/python $here/report.py
