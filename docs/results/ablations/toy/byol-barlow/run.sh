#!/usr/bin/env bash
# BYOL (id_variant=byol) and Barlow Twins (id_variant=barlow), their recipes exactly, on the toy data at 3 seeds, each
# paired by seed with the MoCo (the row's default) and MoCo v3 runs of the DINO page (docs/results/ablations/toy/dino/runs,
# the same preset, seeds and command). One `m3i-ref bench quality` folder per variant and seed under runs/ (resumable: a
# finished run is read back). Then: python docs/results/ablations/toy/byol-barlow/report.py (writes byol-barlow.md/.json).
# Usage: bash docs/results/ablations/toy/byol-barlow/run.sh   (from anywhere; M3I=path/to/m3i-ref to use another install)
# One thread per run: on a machine shared with other jobs two threads spin against them; the scores do not depend on it.
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
here=docs/results/ablations/toy/byol-barlow
for v in byol barlow; do
  for seed in 0 1 2; do
    "$M3I" bench quality --preset toy --runs instance_discrimination --out "$here/runs/$v/seed$seed" --set id_variant=$v --set seed=$seed
    rm -rf "$here/runs/$v/seed$seed/ckpt" "$here/runs/$v/seed$seed/quality.png"   # not kept: the checkpoint, the one-bar plot
  done
done
.venv/bin/python $here/report.py
