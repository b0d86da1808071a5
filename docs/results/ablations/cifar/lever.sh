#!/usr/bin/env bash
# One lever probe's runs (the pages of lever.py): for each seed in $SEEDS (default 0 1 2), `m3i-ref bench quality` of ROWS on
# CIFAR-10 (JPEG copy) at 100,000 images with OPTION=VALUE, into <probe>/runs/FOLDER/seed<k> (resumable: a finished run is
# read back), then the probe's page (<probe>/report.py). Each probe's run.sh calls it with its own arguments.
# Usage: bash docs/results/ablations/cifar/lever.sh PROBE ROWS OPTION=VALUE FOLDER
#   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref). Run alone on the machine: the seconds are only comparable
#   between runs made alone (2 threads on 2 cores here).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
probe=$1 rows=$2 setting=$3 folder=$4
M3I=${M3I:-.venv/bin/m3i-ref}
here=docs/results/ablations/cifar/$probe
for seed in ${SEEDS:-0 1 2}; do
  "$M3I" bench quality --data-root "${M3I_DATA:-../shared/data}" --images 100000 --runs "$rows" \
    --out "$here/runs/$folder/seed$seed" --set "$setting" --set seed=$seed
  rm -rf "$here/runs/$folder/seed$seed/ckpt" "$here/runs/$folder/seed$seed/quality.png"   # not kept: the checkpoints, the plot
done
.venv/bin/python "$here/report.py"
