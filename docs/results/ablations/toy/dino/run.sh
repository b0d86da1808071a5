#!/usr/bin/env bash
# DINO (id_variant=dino) against MoCo (the row's default, id_variant=moco) and MoCo v3 (id_variant=mocov3) on the toy data,
# and DINO's local crops (0, 2 or 4 local crops of 16 px beside the two 32 px global crops), 3 seeds each, toy preset
# (1,000 steps, 64,000 images). One `m3i-ref bench quality` folder per setting and seed, under runs/ (resumable: a finished
# run is read back). Then: python docs/results/ablations/toy/dino/report.py (writes dino.md and dino.json beside this file).
# Usage: bash docs/results/ablations/toy/dino/run.sh   (from the repository root; M3I=path/to/m3i-ref to use another install)
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
M3I=${M3I:-m3i-ref}
here=docs/results/ablations/toy/dino
declare -A V=(
  [dino-local0]="--set id_variant=dino --set local_crops=0"
  [dino-local2]="--set id_variant=dino --set local_crops=2"
  [dino-local4]="--set id_variant=dino --set local_crops=4"
  [moco]="--set id_variant=moco"
  [mocov3]="--set id_variant=mocov3"
)
for v in dino-local0 dino-local2 dino-local4 moco mocov3; do
  for seed in 0 1 2; do
    # shellcheck disable=SC2086
    "$M3I" bench quality --preset toy --runs instance_discrimination --out "$here/runs/$v/seed$seed" ${V[$v]} --set seed=$seed
    rm -rf "$here/runs/$v/seed$seed/ckpt" "$here/runs/$v/seed$seed/quality.png"   # not kept: the checkpoint, the one-bar plot
  done
done
