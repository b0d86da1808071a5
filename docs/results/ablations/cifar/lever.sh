#!/usr/bin/env bash
# One lever probe's runs (the pages of lever.py): for each seed in $SEEDS (default 0 1 2), `m3i-ref bench quality` of ROWS on
# CIFAR-10 (JPEG copy) at 100,000 images with OPTION=VALUE, into <probe>/runs/FOLDER/seed<k> (resumable: a finished run is
# read back), then the probe's page (<probe>/report.py). Each probe's run.sh calls it with its own arguments.
# A seed past the benchmark's 0, 1, 2 has no default side to pair with: for it, ROWS at their defaults and the floors are
# run first into docs/results/ablations/cifar/defaults/seed<k> (shared by the probes; resumable as well). $ROWS, if set,
# replaces the probe's rows (more seeds of one row: SEEDS="3 4" ROWS=mim_feature bash <probe>/run.sh). SCALE=toy runs the
# same on the toy data (preset toy, its 64,000 images) into <probe>/toy/FOLDER/seed<k>, paired with docs/results/shapes/64k.
# Usage: bash docs/results/ablations/cifar/lever.sh PROBE ROWS OPTION=VALUE FOLDER
#   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref). Run alone on the machine: the seconds are only comparable
#   between runs made alone (2 threads on 2 cores here).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
probe=$1 rows=${ROWS:-$2} setting=$3 folder=$4
M3I=${M3I:-.venv/bin/m3i-ref}
here=docs/results/ablations/cifar/$probe
case ${SCALE:-cifar10} in
  cifar10) args=(--data-root "${M3I_DATA:-../shared/data}" --images 100000) runs=runs own=docs/results/ablations/cifar/defaults ;;
  toy) args=(--preset toy) runs=toy own=docs/results/ablations/cifar/defaults/toy ;;
  *) echo "SCALE=$SCALE; choose cifar10 or toy" >&2; exit 2 ;;
esac
for seed in ${SEEDS:-0 1 2}; do
  if [ "$seed" -gt 2 ]; then
    "$M3I" bench quality "${args[@]}" --runs "random_init,raw_pixels,chance,$rows" --out "$own/seed$seed" --set seed=$seed
    rm -rf "$own/seed$seed/ckpt" "$own/seed$seed/quality.png"
  fi
  "$M3I" bench quality "${args[@]}" --runs "$rows" --out "$here/$runs/$folder/seed$seed" --set "$setting" --set seed=$seed
  rm -rf "$here/$runs/$folder/seed$seed/ckpt" "$here/$runs/$folder/seed$seed/quality.png"   # not kept: the checkpoints, the plot
done
.venv/bin/python "$here/report.py"
