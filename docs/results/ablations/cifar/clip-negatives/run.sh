#!/usr/bin/env bash
# CLIP's false negatives at CIFAR-10 scale: the clip row at 100,000 images (CIFAR-10 JPEG copy) with each `clip_negatives`
# setting, three seeds each; the toy page (docs/results/ablations/clip-negatives) reads this page's verdict for the row's default.
# Usage: bash docs/results/ablations/cifar/clip-negatives/run.sh   (data: $M3I_DATA or ../shared/data; about 6 minutes a run
#        alone on 2 cores; resumable: finished runs are read back)
# Then:  python docs/results/ablations/cifar/clip-negatives/report.py, and python docs/results/ablations/clip-negatives/report.py
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
here=docs/results/ablations/cifar/clip-negatives
for seed in 0 1 2; do
  for neg in other_classes all; do
    "$M3I" bench quality --data-root "${M3I_DATA:-../shared/data}" --images 100000 --runs clip \
      --out "$here/runs/$neg/seed$seed" --set clip_negatives=$neg --set seed=$seed
    rm -rf "$here/runs/$neg/seed$seed/ckpt" "$here/runs/$neg/seed$seed/quality.png"   # not kept: the checkpoint, the one-bar plot
  done
done
.venv/bin/python $here/report.py
