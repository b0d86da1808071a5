#!/usr/bin/env bash
# CIFAR-10 (JPEG copy) at 200,000 images seen per run (four epochs, twice the main table's budget): the floors, MIM pixel
# and MIM feature under the current defaults, seed 0. The question: does the pixel target's lead over the feature target
# (1.2 kNN at 100,000 images, three seeds) shrink, hold or turn with budget? A from-scratch run per budget (the cosine
# schedule is set by the budget), resumable: a finished run is read back. Then the budget page:
#   m3i-ref bench budgets docs/results/cifar10/100k/seed0 docs/results/cifar10/200k/seed0 --out docs/results/cifar10/200k
# Usage: bash docs/results/cifar10/200k/seed0/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
DATA=${M3I_DATA:-../shared/data}
BIN=${M3I_BIN:-.venv/bin/m3i-ref}
mkdir -p docs/results/cifar10/200k/seed0/logs
for runs in random_init,raw_pixels,chance mim_pixel mim_feature; do
  "$BIN" bench quality --data-root "$DATA" --images 200000 --runs "$runs" --out docs/results/cifar10/200k/seed0 > "docs/results/cifar10/200k/seed0/logs/${runs%%,*}.log" 2>&1
  echo "done $runs"
done
"$BIN" bench quality --data-root "$DATA" --images 200000 --runs random_init,raw_pixels,chance,mim_pixel,mim_feature --out docs/results/cifar10/200k/seed0 > /dev/null
"$BIN" bench budgets docs/results/cifar10/100k/seed0 docs/results/cifar10/200k/seed0 --out docs/results/cifar10/200k
