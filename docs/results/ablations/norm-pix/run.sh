#!/usr/bin/env bash
# The auto-encoder row with and without MAE's per-patch-normalised target (norm_pix=True, the row's default, from MAE;
# norm_pix=False, the plain auto-encoder's raw pixels), paired by seed.
# Toy preset, seeds 0 to 4, both settings: toy/<setting>/seed<k> (the floors beside the normalised runs). CIFAR-10 (JPEG copy) at 100,000 images, seeds 0 to 2,
# norm_pix=False only: cifar/raw/seed<k>; the norm_pix=True side and the floors are the CIFAR-10 benchmark's runs
# (docs/results/cifar10/100k/seed0..2), made with the same preset, budget and kNN/linear protocol.
# One `m3i-ref bench quality` folder per run (resumable: a finished run is read back).
# Then: python docs/results/ablations/norm-pix/report.py (writes norm-pix.md and norm-pix.json).
# Usage: bash docs/results/ablations/norm-pix/run.sh [toy|cifar]   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref)
# Run alone on the machine: the seconds column is only comparable between runs made alone (2 threads on 2 cores here).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
here=docs/results/ablations/norm-pix
what=${1:-all}
if [[ $what == toy || $what == all ]]; then
  for seed in 0 1 2 3 4; do
    "$M3I" bench quality --preset toy --runs autoencoder,random_init,raw_pixels,chance --out "$here/toy/normalised/seed$seed" --set seed=$seed
    "$M3I" bench quality --preset toy --runs autoencoder --out "$here/toy/raw/seed$seed" --set seed=$seed --set norm_pix=False
  done
fi
if [[ $what == cifar || $what == all ]]; then
  for seed in 0 1 2; do
    "$M3I" bench quality --data-root "${M3I_DATA:-../shared/data}" --images 100000 --runs autoencoder \
      --out "$here/cifar/raw/seed$seed" --set norm_pix=False --set seed=$seed
  done
fi
find "$here" -name ckpt -type d -prune -exec rm -rf {} +; find "$here" -name quality.png -delete   # not kept: checkpoints, one-bar plots
.venv/bin/python $here/report.py
