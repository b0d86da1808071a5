#!/usr/bin/env bash
# Ablations for the self-distillation and instance-discrimination rows (issue: rows that bootstrap on short budgets).
# Each variant changes one row option or training setting from the defaults and reruns the rows it applies to.
# Usage: bash docs/results/ablations/run.sh toy      (toy preset, ~45 s a run)
#        bash docs/results/ablations/run.sh cifar    (CIFAR-10 JPEG copy, 100,000 images a run; needs M3I_DATA or ../shared/data)
# Then:  .venv/bin/python docs/results/ablations/report.py   (writes docs/results/ablations/ablations.md and ablations.json)
# Resumable (finished runs are read back). Run alone on the machine: other CPU work distorts the seconds column.
# The instance-discrimination runs here were made when that row's default variant was `moco` (MoCo v3's recipe, `mocov3`, is
# the default since docs/results/ablations/cifar/mocov3); to remake them as they ran, add --set instance_discrimination.id_variant=moco.
set -euo pipefail
cd "$(dirname "$0")/../../.."
M3I=${M3I:-.venv/bin/m3i-ref}
scale=${1:-toy}
SD=mim_feature,sim_feature,mim_global,dense_distillation,global_distillation
if [ "$scale" = toy ]; then
  common=(--preset toy)
  declare -A V=(
    [baseline]="mim_feature|"
    [ema-auto]="$SD,instance_discrimination,dense_instance_discrimination,sim_global|--set ema_base=auto"
    [target-layers-2]="mim_feature,sim_feature,dense_distillation,dense_instance_discrimination|--set target_layers=2"
    [loss-on-masked]="mim_feature|--set loss_on=masked"
    [symmetric]="instance_discrimination|--set symmetric=true"
    [head-batch]="instance_discrimination,global_distillation,mim_global,sim_global|--set head_norm=batch"
    [crop-0.08]="instance_discrimination|--set crop_min=0.08"
    [dino-bottleneck]="global_distillation|--set dino_head=bottleneck"
    [negatives-other]="dense_instance_discrimination|--set negatives=other_images"
    [negatives-both]="dense_instance_discrimination|--set negatives=both"
    [target-norm-instance]="mim_feature,sim_feature,dense_distillation,dense_instance_discrimination|--set target_norm=instance"
    [blr-2e-3]="mim_feature,sim_feature|--set blr=2e-3"
    [blr-8e-3]="mim_feature,sim_feature|--set blr=8e-3"
    [neg-weight-0]="mim_feature,sim_feature|--set neg_weight=0"
    [mask-0.4]="mim_feature,sim_feature|--set mask_ratio=0.4"
  )
  order=(baseline ema-auto target-layers-2 loss-on-masked symmetric head-batch crop-0.08 dino-bottleneck negatives-other negatives-both
         target-norm-instance blr-2e-3 blr-8e-3 neg-weight-0 mask-0.4)
else
  common=(--preset cifar-cpu --images 100000 --data-root "${M3I_DATA:-../shared/data}")
  # most informative first (each run takes 5 to 20 minutes on 2 cores); the same folder may be filled in two steps
  declare -A V=(
    [tn1]="target-norm-instance|mim_feature,sim_feature|--set target_norm=instance"
    [hb1]="head-batch|instance_discrimination,mim_global|--set head_norm=batch"
    [m3i]="m3i-target-norm-instance|m3i|--set target_norm=instance"
    [tn2]="target-norm-instance|dense_distillation|--set target_norm=instance"
    [hb2]="head-batch|global_distillation,sim_global|--set head_norm=batch"
    [sym]="symmetric-head-batch|instance_discrimination|--set symmetric=true --set head_norm=batch"
  )
  order=(tn1 hb1 m3i tn2 hb2 sym)
fi
for v in "${order[@]}"; do
  entry=${V[$v]}
  [ "$scale" = toy ] && entry="$v|$entry"          # toy entries are named after their folder
  IFS='|' read -r folder runs sets <<< "$entry"
  # shellcheck disable=SC2086
  $M3I bench quality "${common[@]}" --runs "$runs" --out "docs/results/ablations/$scale/$folder" $sets
done
