#!/usr/bin/env bash
# CLIP's false negatives (issue 24): the clip row at the toy preset with each `clip_negatives` setting, three seeds each.
# Usage: bash docs/results/ablations/clip-negatives/run.sh     (~30 s a run on an idle machine; resumable: finished runs are read back)
# Then:  python docs/results/ablations/clip-negatives/report.py   (writes clip-negatives.md and clip-negatives.json here)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
M3I=${M3I:-m3i-ref}
for seed in 0 1 2; do
  for neg in all other_classes; do
    $M3I bench quality --preset toy --runs clip --out "docs/results/ablations/clip-negatives/$neg/seed$seed" --set seed=$seed --set clip_negatives=$neg
  done
done
