#!/usr/bin/env bash
# Global distillation with DINO's head (dino_head=bottleneck: an l2-normalised bottleneck, then unit-norm prototypes)
# against the row's plain MLP to the prototypes (dino_head=plain, the default), CIFAR-10 (JPEG copy) at 100,000 images,
# seeds 0, 1, 2: a lever for the row nearest the random-init floor. Measured before on the toy data only, one seed
# (+1.5 kNN, -1.4 linear, ablations/ablations.md). The dino_head=plain side and the floors are the CIFAR-10 benchmark's runs
# of the same seeds (docs/results/cifar10/100k/seed<k>).
# One `m3i-ref bench quality` folder per seed under runs/ (resumable: a finished run is read back).
# Then: python docs/results/ablations/cifar/dino-head/report.py (writes dino-head.md and dino-head.json).
# Usage: bash docs/results/ablations/cifar/dino-head/run.sh   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref)
# Run alone on the machine: the seconds column is only comparable between runs made alone (2 threads on 2 cores here).
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
here=docs/results/ablations/cifar/dino-head
for seed in ${SEEDS:-0 1 2}; do
  "$M3I" bench quality --data-root "${M3I_DATA:-../shared/data}" --images 100000 --runs global_distillation \
    --out "$here/runs/bottleneck/seed$seed" --set dino_head=bottleneck --set seed=$seed
  rm -rf "$here/runs/bottleneck/seed$seed/ckpt" "$here/runs/bottleneck/seed$seed/quality.png"   # not kept: the checkpoint, the plot
done
.venv/bin/python $here/report.py
