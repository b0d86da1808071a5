"The label-efficient transfer protocol: the labelled subset, layer-wise lr decay, the from-scratch floor, the CLI and the bench columns."
import json
from dataclasses import replace
import pytest
import torch
import m3i_ref.evaluate as evaluate
from m3i_ref.evaluate import (balanced_subset, subset_fingerprint, layerwise_groups, finetune_subset, transfer_scores, recipe_for,
                              FinetuneRecipe, label_key)
from m3i_ref.data import make_shapes
from m3i_ref.vit import ViT
from m3i_ref.cli import main, parse_labels

TINY = FinetuneRecipe(steps=3, batch_size=16, blr=1e-3, crop_min=0.5)


def test_subset_is_balanced_fixed_by_its_seed_and_the_same_for_every_run():
    labels = torch.tensor([0] * 500 + [1] * 300 + [2] * 200)[torch.randperm(1000, generator=torch.Generator().manual_seed(3))]
    sub = balanced_subset(labels, 0.06, seed=4)
    assert labels[sub].bincount().tolist() == [20, 20, 20]                   # round(0.06 * 1000 / 3) of each class
    assert torch.equal(sub, balanced_subset(labels.clone(), 0.06, seed=4))    # depends on labels, fraction and seed only
    assert not torch.equal(sub, balanced_subset(labels, 0.06, seed=5))
    assert len(set(sub.tolist())) == len(sub)                                 # no image twice
    small = balanced_subset(torch.tensor([0] * 50 + [1] * 3), 0.5, seed=0)    # a class with fewer images than its share gives all it has
    assert torch.tensor([0] * 50 + [1] * 3)[small].bincount().tolist() == [13, 3]   # round(0.5 * 53 / 2) = 13
    for bad in (0, -0.1, 1.5, float('nan')):
        with pytest.raises(ValueError, match=f'labels fraction {bad!r} must be in'):
            balanced_subset(labels, bad)
    assert label_key(0.01) == '1%' and label_key(0.1) == '10%' and label_key(1) == '100%'


def test_two_runs_see_the_same_labelled_images():
    train, test = make_shapes(240, seed=0), make_shapes(60, seed=10_000)
    mean, std = train.mean_std()
    torch.manual_seed(0); a = ViT.from_size('toy', 32, 8)
    torch.manual_seed(1); b = ViT.from_size('toy', 32, 8)
    ra, rb = (transfer_scores(e, train, test, mean, std, 0.25, seed=2) for e in (a, b))
    assert ra['subset'] == rb['subset'] == subset_fingerprint(balanced_subset(train.labels, 0.25, 2))
    assert ra['labelled'] == rb['labelled'] == 60 and ra['knn_k'] == 60
    assert ra['knn_top1'] != rb['knn_top1'] or ra['linear_top1'] != rb['linear_top1']   # two encoders, two scores


def test_layerwise_decay_gives_the_documented_lr_per_block():
    enc = ViT.from_size('cifar', 32, 4)                                       # depth 4
    head = torch.nn.Linear(enc.dim, 10)
    lr_of = {n: g['lr'] for g in layerwise_groups(enc, head, lr=2.0, weight_decay=0.05, layer_decay=0.75) for n in g['names']}
    for i in range(4):                                                        # block i (0-based) of L = 4: lr * d^(L - i)
        assert lr_of[f'blocks.{i}.attn.qkv.weight'] == pytest.approx(2.0 * 0.75 ** (4 - i))
        assert lr_of[f'blocks.{i}.norm1.bias'] == pytest.approx(2.0 * 0.75 ** (4 - i))
    assert lr_of['patch_embed.weight'] == pytest.approx(2.0 * 0.75 ** 5) and lr_of['cls_token'] == pytest.approx(2.0 * 0.75 ** 5)
    assert lr_of['norm.weight'] == lr_of['head.weight'] == lr_of['head.bias'] == 2.0
    assert 'pos_embed' not in lr_of and len(lr_of) == sum(p.requires_grad for p in [*enc.parameters(), *head.parameters()])


def test_finetuning_applies_the_decay_at_every_step_and_leaves_the_encoder_alone(monkeypatch):
    "The lrs the optimiser really uses, read at every step: each group at peak-schedule x its layer's factor."
    seen, Adam = [], torch.optim.AdamW
    class Recording(Adam):
        def step(self, *a, **k):
            seen.append({g['layer']: g['lr'] for g in self.param_groups}); return super().step(*a, **k)
    monkeypatch.setattr(torch.optim, 'AdamW', Recording)
    train, test = make_shapes(64, seed=0), make_shapes(32, seed=10_000)
    mean, std = train.mean_std()
    enc = ViT.from_size('toy', 32, 8)                                         # depth 2
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    recipe = replace(TINY, steps=4, layer_decay=0.5, warmup=0.5)
    top1 = finetune_subset(enc, train, test, mean, std, recipe, torch.arange(20))
    assert 0 <= top1 <= 100 and len(seen) == 4
    for lrs in seen:
        top = lrs[3]                                                          # final norm and head: the schedule's lr
        assert lrs[0] == pytest.approx(top * 0.5 ** 3) and lrs[1] == pytest.approx(top * 0.5 ** 2) and lrs[2] == pytest.approx(top * 0.5)
    assert seen[0][3] < seen[1][3]                                            # warm-up, then cosine
    assert all(torch.equal(before[k], v) for k, v in enc.state_dict().items())   # the caller's encoder is not fine-tuned


def test_from_scratch_floor_uses_the_runs_recipe_subset_and_initial_weights(monkeypatch, tmp_path):
    "Every fine-tuning call of one evaluation (the run's and the floor's) gets the same recipe and subset; the floor starts from the run's initial weights."
    from m3i_ref.train import make_config, evaluate_encoder, initial_encoder
    from m3i_ref.results import floors
    monkeypatch.setenv('M3I_CACHE', str(tmp_path))
    calls = []
    def record(encoder, train, test, mean, std, recipe, indices, device, seed):
        calls.append(dict(weights={k: v.clone() for k, v in encoder.state_dict().items()}, recipe=recipe, indices=indices.clone(), seed=seed))
        return 50.0 + len(calls)
    monkeypatch.setattr(evaluate, 'finetune_subset', record)
    cfg = make_config('mim_pixel', 'toy', dict(train_size=120, test_size=60, seed=3))
    train, test = make_shapes(120, seed=3), make_shapes(60, seed=10_003)
    mean, std = train.mean_std()
    torch.manual_seed(9); trained = ViT.from_size('toy', 32, 8)
    out = evaluate_encoder(trained, train, test, mean, std, cfg, labels=(0.2,), recipe=TINY)
    t = out['transfer']['20%']
    assert len(calls) == 2 and calls[0]['recipe'] == calls[1]['recipe'] == TINY
    assert torch.equal(calls[0]['indices'], calls[1]['indices']) and calls[0]['seed'] == calls[1]['seed'] == 3
    start = initial_encoder(cfg).state_dict()
    assert all(torch.equal(calls[1]['weights'][k], v) for k, v in start.items())             # the floor: the run's starting weights
    assert not all(torch.equal(calls[0]['weights'][k], v) for k, v in start.items())
    assert t['finetune_top1'] == 51.0 and t['floors']['random_init']['finetune_top1'] == 52.0 and t['floors']['subset'] == t['subset']
    assert t['recipe']['steps'] == 3
    other = floors(cfg, train, test, mean, std, ('knn_top1', 'linear_top1', 'finetune_top1'), 0.2, replace(TINY, steps=4))           # another recipe: not the cached floor
    assert len(calls) == 3 and calls[2]['recipe'].steps == 4 and other['random_init']['finetune_top1'] == 53.0
    assert floors(cfg, train, test, mean, std, ('knn_top1', 'linear_top1', 'finetune_top1'), 0.2, TINY)['random_init']['finetune_top1'] == 52.0 and len(calls) == 3   # cached


def test_parse_labels_and_recipes():
    assert parse_labels('0.01, 0.1') == [0.01, 0.1] and parse_labels('1%,10%') == [0.01, 0.1] and parse_labels('') == []
    for bad, msg in (('2', "'2' is outside"), ('ten', "'ten' is not a fraction"), ('0', "'0' is outside")):
        with pytest.raises(ValueError, match=msg): parse_labels(bad)
    assert recipe_for('toy').steps == 300 and recipe_for(vit='cifar') == recipe_for('cifar-cpu')
    assert recipe_for('toy', steps=7).steps == 7
    with pytest.raises(ValueError, match="no fine-tuning recipe for preset 'tiny'"): recipe_for('tiny')


def test_eval_command_prints_finetuning_next_to_from_scratch(tmp_path, capsys):
    run = tmp_path / 'run'
    assert main(['train', '--method', 'classification', '--preset', 'toy', '--out-dir', str(run), '--set', 'steps=4',
                 '--set', 'train_size=128', '--set', 'test_size=64', '--set', 'progress=false']) == 0
    capsys.readouterr()
    assert main(['eval', '--ckpt', str(run / 'checkpoint.pt'), '--finetune']) == 2
    assert '--finetune fine-tunes on a share of the labels: add --labels' in capsys.readouterr().err
    assert main(['eval', '--ckpt', str(run / 'checkpoint.pt'), '--labels', '0.25', '--finetune', '--finetune-steps', '2']) == 0
    out = capsys.readouterr().out
    res = json.loads((run / 'eval.json').read_text())
    t = res['transfer']['25%']
    line = f"classification: fine-tune@25% {t['finetune_top1']:.1f} (from scratch {t['floors']['random_init']['finetune_top1']:.1f}), kNN@25% {t['knn_top1']:.1f}"
    assert line in out and t['recipe']['steps'] == 2 and t['recipe']['layer_decay'] == recipe_for('toy').layer_decay
    assert t['labelled'] == 30 and out.index('fine-tune@25%') < out.index('classification: kNN ')   # 6 classes x round(0.25 * 128 / 6); the transfer leads


def test_bench_quality_adds_transfer_columns_to_finished_runs_and_leads_with_them(tmp_path, capsys):
    out = tmp_path / 'bench'
    common = ['bench', 'quality', '--preset', 'toy', '--images', '256', '--out', str(out), '--set', 'train_size=128', '--set', 'test_size=64']
    assert main([*common, '--runs', 'random_init,raw_pixels,chance,mim_pixel']) == 0
    first = json.loads((out / 'runs' / 'mim_pixel.json').read_text())
    assert 'transfer' not in first and first['options']['mim_pixel']['mim_variant'] == 'mae'   # the variant it ran, as it took effect
    assert main([*common, '--runs', 'mim_pixel', '--set', 'mim_variant=simmim']) == 2           # not answered by the MAE run
    assert "mim_pixel.mim_variant: 'mae' -> 'simmim'" in capsys.readouterr().err
    assert main([*common, '--runs', 'random_init,raw_pixels,chance,mim_pixel', '--labels', '0.25', '--finetune', '--finetune-steps', '2']) == 0
    runs = {n: json.loads((out / 'runs' / f'{n}.json').read_text()) for n in ('random_init', 'raw_pixels', 'chance', 'mim_pixel')}
    assert runs['mim_pixel']['knn_top1'] == first['knn_top1']                 # read back, not retrained
    assert runs['mim_pixel']['transfer']['25%']['subset'] == runs['random_init']['transfer']['25%']['subset']
    scratch = runs['random_init']['finetune_top1@25%']
    assert scratch == runs['mim_pixel']['transfer']['25%']['floors']['random_init']['finetune_top1']
    assert runs['raw_pixels']['finetune_top1@25%'] is None and runs['raw_pixels']['knn_top1@25%'] is not None
    md = (out / 'quality.md').read_text()
    assert md.index('fine-tune@25%') < md.index('| run | poster name | kNN top-1 |')
    row = f"| mim_pixel | {runs['mim_pixel']['finetune_top1@25%']:.1f} |"
    assert row in md and f"{runs['mim_pixel']['finetune_top1@25%'] - scratch:+.1f} |" in md
    assert '| ordering (fine-tune@25%) |' in md and 'from-scratch floor + 3 points' in md
    assert '--labels 0.25' in md                                              # the page's command reproduces it
