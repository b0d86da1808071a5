"""Golden outputs: the first three losses of each of the 16 runs on a fixed seed and batch. Recorded before a refactor
(`python tests/test_golden.py --record`), they prove the refactor changes nothing it should not. A default changed on
purpose is re-recorded in the same commit, with the reason in the commit message."""
import json, sys
from pathlib import Path
import pytest
import torch

GOLDEN = Path(__file__).resolve().parent / 'golden' / 'first-losses.json'

# option variants whose code paths the 16 defaults do not reach (recorded with them, same rule)
VARIANTS = {'instance_discrimination+moco': ('instance_discrimination', {'id_variant': 'moco'}),
            'instance_discrimination+byol': ('instance_discrimination', {'id_variant': 'byol'}),
            'instance_discrimination+barlow': ('instance_discrimination', {'id_variant': 'barlow'}),
            'instance_discrimination+symmetric': ('instance_discrimination', {'id_variant': 'moco', 'symmetric': 'true'}),
            'global_distillation+bottleneck': ('global_distillation', {'dino_head': 'bottleneck'}),
            'dense_instance_discrimination+both': ('dense_instance_discrimination', {'negatives': 'both'}),
            'mim_feature+layers2+masked': ('mim_feature', {'target_layers': '2', 'loss_on': 'masked', 'target_norm': 'layer'}),
            'm3i+soft+both': ('m3i', {'label_mix': 'soft', 'semantic': 'both'}),
            'dense_distillation+frozen': ('dense_distillation', {'teacher': 'frozen', 'teacher_from': 'unused-in-this-test.pt'})}

def first_losses(method, steps=3, overrides=None):
    from m3i_ref.methods import Pretrainer, make_slots
    from m3i_ref.train import make_config, model_config
    from m3i_ref.data import make_shapes, WordTokenizer
    data = make_shapes(16, size=32, seed=0, design='calm')   # the design the losses were recorded on (the training code is what is pinned)
    tok = WordTokenizer.from_texts(data.all_captions()); mean, std = data.mean_std()
    cfg = model_config(make_config(method, 'toy', overrides))
    cfg.num_classes, cfg.vocab_size = data.num_classes, len(tok)
    torch.manual_seed(0)
    model = Pretrainer(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    out = []
    for step in range(steps):
        slots = make_slots(cfg, data.batch(torch.arange(16)), mean, std, torch.Generator().manual_seed(step), tok)
        loss = model(slots)['loss']
        opt.zero_grad(); loss.backward(); opt.step(); model.momentum_update(0.99)
        out.append(loss.item())
    return out

def test_golden_file_covers_every_run():
    assert sorted(json.loads(GOLDEN.read_text())) == sorted([*METHODS, *VARIANTS])

from m3i_ref.methods import METHODS

@pytest.mark.parametrize('method', METHODS)
def test_first_three_losses_are_unchanged(method):
    expected = json.loads(GOLDEN.read_text())[method]
    assert first_losses(method) == pytest.approx(expected, rel=1e-5, abs=1e-6), method

@pytest.mark.parametrize('variant', VARIANTS)
def test_first_three_losses_of_option_variants_are_unchanged(variant):
    expected = json.loads(GOLDEN.read_text())[variant]
    method, overrides = VARIANTS[variant]
    assert first_losses(method, overrides=overrides) == pytest.approx(expected, rel=1e-5, abs=1e-6), variant

if __name__ == '__main__' and '--record' in sys.argv:
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps({**{m: first_losses(m) for m in METHODS}, **{v: first_losses(m, overrides=o) for v, (m, o) in VARIANTS.items()}}, indent=1) + '\n')
    print(f'recorded {GOLDEN}')
