#!/usr/bin/env bash
# MIM feature and SiameseIM feature with the teacher's top two blocks averaged as the target (target_layers=2, data2vec's
# averaging of the top K blocks: 6 of 12 for ViT-B, here 2 of the cifar-cpu ViT's 4) against the last block alone (the rows'
# default, SiameseIM's), CIFAR-10 (JPEG copy) at 100,000 images, seeds 0, 1, 2 (seed 0 first, as a probe; seeds 1 and 2
# added on 2026-12-07). The target_layers=1 side and the floors are the CIFAR-10 benchmark's runs of the same seeds
# (docs/results/cifar10/100k/seed<k>). One `m3i-ref bench quality` folder per seed (resumable: a finished run is read back).
# Then: python docs/results/ablations/cifar/target-layers/report.py (writes target-layers.md and target-layers.json).
# Usage: bash docs/results/ablations/cifar/target-layers/run.sh   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref)
# Run alone on the machine: the seconds column is only comparable between runs made alone (2 threads on 2 cores here).
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
here=docs/results/ablations/cifar/target-layers
for seed in ${SEEDS:-0 1 2}; do
  "$M3I" bench quality --data-root "${M3I_DATA:-../shared/data}" --images 100000 --runs mim_feature,sim_feature \
    --out "$here/runs/top2/seed$seed" --set target_layers=2 --set seed=$seed
  rm -rf "$here/runs/top2/seed$seed/ckpt" "$here/runs/top2/seed$seed/quality.png"   # not kept: the checkpoints, the plot
done
.venv/bin/python $here/report.py
