#!/usr/bin/env bash
# MIM feature with the loss on the hidden patches only (loss_on=masked: MAE's and data2vec's placement) against the loss on
# every patch of the view (loss_on=all, the row's default from SiameseIM's code), CIFAR-10 (JPEG copy) at 100,000 images,
# seeds 0, 1, 2, under the row's current target (target_norm=instance). The loss_on=all side and the floors are the CIFAR-10
# benchmark's runs of the same seeds (docs/results/cifar10/100k/seed<k>). Measured before at CIFAR scale only under the old
# per-token target (34.1 kNN both ways, ablations/ablations.md).
# One `m3i-ref bench quality` folder per seed under runs/ (resumable: a finished run is read back).
# Then: python docs/results/ablations/cifar/loss-on/report.py (writes loss-on.md and loss-on.json).
# Usage: bash docs/results/ablations/cifar/loss-on/run.sh   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref)
# Run alone on the machine: the seconds column is only comparable between runs made alone (2 threads on 2 cores here).
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
here=docs/results/ablations/cifar/loss-on
for seed in ${SEEDS:-0 1 2}; do
  "$M3I" bench quality --data-root "${M3I_DATA:-../shared/data}" --images 100000 --runs mim_feature \
    --out "$here/runs/masked/seed$seed" --set loss_on=masked --set seed=$seed
  rm -rf "$here/runs/masked/seed$seed/ckpt" "$here/runs/masked/seed$seed/quality.png"   # not kept: the checkpoint, the plot
done
.venv/bin/python $here/report.py
