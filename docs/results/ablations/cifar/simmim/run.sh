#!/usr/bin/env bash
# SimMIM (mim_variant=simmim: mask tokens inside the encoder, a linear head, L1 on the hidden pixels) against the MIM
# pixel row's default (mim_variant=mae: hidden patches dropped, a decoder, per-patch-normalised MSE) on CIFAR-10 (JPEG
# copy) at 100,000 images, seeds 0 to 2. The MAE side is the benchmark's own mim_pixel runs
# (docs/results/cifar10/100k/seed0..2), made with the same preset, budget and kNN/linear protocol.
# One `m3i-ref bench quality` folder per seed under runs/ (resumable: a finished run is read back).
# Then: python docs/results/ablations/cifar/simmim/report.py (writes simmim.md and simmim.json).
# Usage: bash docs/results/ablations/cifar/simmim/run.sh   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref for another install)
# Run alone on the machine: the seconds column is only comparable between runs made alone (2 threads on 2 cores here).
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
here=docs/results/ablations/cifar/simmim
for seed in 0 1 2; do
  "$M3I" bench quality --data-root "${M3I_DATA:-../shared/data}" --images 100000 --runs mim_pixel \
    --out "$here/runs/simmim/seed$seed" --set mim_variant=simmim --set seed=$seed
  rm -rf "$here/runs/simmim/seed$seed/ckpt" "$here/runs/simmim/seed$seed/quality.png"   # not kept: the checkpoint, the one-bar plot
done
.venv/bin/python $here/report.py
