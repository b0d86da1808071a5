#!/usr/bin/env bash
# MIM feature and SiameseIM feature with the teacher's top two blocks averaged as the target (target_layers=2, data2vec's
# averaging of the top K blocks: 6 of 12 for ViT-B, here 2 of the cifar-cpu ViT's 4) against the last block alone (the rows'
# default, SiameseIM's), CIFAR-10 (JPEG copy) at 100,000 images, seeds 0, 1, 2 (seed 0 first, as a probe; seeds 1 and 2
# added on 2026-12-07). The target_layers=1 side and the floors are the CIFAR-10 benchmark's runs of the same seeds
# (docs/results/cifar10/100k/seed<k>). One `m3i-ref bench quality` folder per seed (resumable: a finished run is read back).
# The runs and the page: ../lever.sh (for each seed, one `m3i-ref bench quality` folder; then report.py).
# Usage: bash docs/results/ablations/cifar/target-layers/run.sh   (data: $M3I_DATA or ../shared/data; M3I=path/to/m3i-ref; run alone)
exec bash "$(dirname "$0")/../lever.sh" target-layers mim_feature,sim_feature target_layers=2 top2
