"""Named methods that are the methods (issue 24): `id_variant='mocov3'` is MoCo v3 (Chen, Xie, He 2021) exactly. Each
test checks one part of its recipe against a value built here by hand from the paper's formula, never by calling the
loss function under test."""
import pytest
import torch
import torch.nn as nn
from m3i_ref.methods import ModelConfig, Pretrainer, make_slots, Slot, defaults_table, VARIANTS, ROW
from m3i_ref.views import Views
from m3i_ref.predictors import BatchNorm

ROW_NAME = 'instance_discrimination'
TAU = 0.2            # MoCo v3's ViT temperature, also the variant's setting (checked below)

def build(shapes, **kw):
    data, tok, _ = shapes
    cfg = ModelConfig(method=ROW_NAME, num_classes=data.num_classes, vocab_size=len(tok), patch=8, **kw)
    torch.manual_seed(0)
    return cfg, Pretrainer(cfg)

def batch(cfg, shapes, n=4, seed=0):
    "One slot: view1 (the input view) and view2 (the other view) of `n` fixed images, fixed augmentations."
    data, tok, (mean, std) = shapes
    return make_slots(cfg, data.batch(torch.arange(n)), mean, std, torch.Generator().manual_seed(seed), tok)

def moved_teacher(model, shapes, cfg):
    "One optimiser step, then a half-way EMA update: student and teacher weights now differ (a test that mixes them up fails)."
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    opt.zero_grad(); model(batch(cfg, shapes, n=8, seed=1))['loss'].backward(); opt.step()
    model.momentum_update(0.5)
    return model

def by_hand(model, slot, tau=TAU, directions=2):
    "MoCo v3's loss from the model's submodules: 2 tau [CE(q1 k2^T / tau, arange) + CE(q2 k1^T / tau, arange)], written out."
    head = model.heads[ROW_NAME]
    projector, predictor = head.predictor.projector, head.predictor.predictor
    t_encoder, t_projector = model.teacher.copies['encoder'], model.teacher.copies[head.projector_name]
    x1, x2 = slot.views.input_view, slot.views.target_view
    q = [predictor(projector(model.encoder(x).dense.mean(1))) for x in (x1, x2)]     # student: encoder, GAP, projector, predictor
    with torch.no_grad(): k = [t_projector(t_encoder(x).dense.mean(1)) for x in (x1, x2)]   # momentum encoder: encoder, GAP, projector
    def ctr(q, k):
        q, k = q / q.norm(dim=1, keepdim=True), k / k.norm(dim=1, keepdim=True)
        logits = q @ k.T / tau
        return 2 * tau * (torch.logsumexp(logits, 1) - torch.diagonal(logits)).mean()   # CE with labels arange(N), times 2 tau
    return ctr(q[0], k[1]) + (ctr(q[1], k[0]) if directions == 2 else 0)

def test_mocov3_loss_equals_the_formula_by_hand(shapes):
    cfg, model = build(shapes, id_variant='mocov3')
    model = moved_teacher(model, shapes, cfg)
    slot = batch(cfg, shapes)['a']
    got = model({'a': slot})['loss']
    expected = by_hand(model, slot)
    assert got.item() == pytest.approx(expected.item(), abs=1e-5)
    assert abs(got.item() - by_hand(model, slot, directions=1).item()) > 1e-3        # both directions count
    # the settings it runs with are MoCo v3's, from the registry
    s = VARIANTS['mocov3'].settings
    assert s['tau'].value == TAU and s['symmetric'].value is True and s['symmetric_sum'].value is True and s['ema_base'].value == 0.99

def test_mocov3_heads_are_the_official_mlps(shapes):
    cfg, model = build(shapes, id_variant='mocov3')
    head = model.heads[ROW_NAME].predictor
    for mlp, n_linear in ((head.projector, 3), (head.predictor, 2)):
        mods = list(mlp)
        linears = [m for m in mods if isinstance(m, nn.Linear)]
        assert len(linears) == n_linear and all(m.bias is None for m in linears)
        hidden = [mods[i:i + 3] for i in range(0, 3 * (n_linear - 1), 3)]
        for lin, bn, act in hidden:                     # Linear + BN (affine) + ReLU
            assert isinstance(lin, nn.Linear) and isinstance(bn, BatchNorm) and bn.affine and isinstance(act, nn.ReLU)
            assert bn.num_features == cfg.hidden_dim
        last_linear, out_bn = mods[-2:]                 # Linear + BN without affine parameters
        assert isinstance(last_linear, nn.Linear) and isinstance(out_bn, BatchNorm)
        assert not out_bn.affine and out_bn.weight is None and out_bn.bias is None
        assert len(mods) == 3 * (n_linear - 1) + 2 and last_linear.out_features == cfg.proj_dim
    teacher_proj = model.teacher.copies[model.heads[ROW_NAME].projector_name]  # the momentum encoder has the projector, not the predictor
    assert [type(m) for m in teacher_proj] == [type(m) for m in head.projector]
    with pytest.raises(ValueError, match="head_norm='layer' does not apply"): build(shapes, id_variant='mocov3', head_norm='layer')   # never silently ignored

def test_mocov3_is_symmetric_and_not_moco(shapes):
    cfg, model = build(shapes, id_variant='mocov3')
    model = moved_teacher(model, shapes, cfg)
    slot = batch(cfg, shapes)['a']
    v = slot.views
    swapped = Slot(Views(v.target_view, v.input_view, v.target_geometry, v.input_geometry), None, slot.labels, slot.text)
    a, b = model({'a': slot})['loss'], model({'a': swapped})['loss']
    assert a.item() == pytest.approx(b.item(), abs=1e-6)
    cfg_moco, moco = build(shapes, id_variant='moco')
    one_way = moco({'a': batch(cfg_moco, shapes)['a']})['loss']
    assert abs(one_way.item() - a.item()) > 1e-3
    cfg_one, one = build(shapes, id_variant='mocov3', symmetric=False)   # the same variant, one direction: not symmetric
    one = moved_teacher(one, shapes, cfg_one)
    assert abs(one({'a': slot})['loss'].item() - one({'a': swapped})['loss'].item()) > 1e-4

def test_mocov3_trains(shapes):
    cfg, model = build(shapes, id_variant='mocov3')
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    slots = batch(cfg, shapes, n=16)
    before = {k: p.detach().clone() for k, p in model.named_parameters()}
    teacher_before = [p.detach().clone() for p in model.teacher.parameters()]
    losses = []
    for step in range(8):
        loss = model(slots)['loss']
        opt.zero_grad(); loss.backward(); opt.step(); model.momentum_update(0.99)
        losses.append(loss.item())
        if step == 0:
            moved = [k for k, p in model.named_parameters() if p.requires_grad and not torch.equal(p, before[k])]
            assert any(k.startswith('encoder.') for k in moved) and any('.projector.' in k for k in moved) and any('.predictor.predictor.' in k for k in moved)
            assert any(not torch.equal(p, q) for p, q in zip(model.teacher.parameters(), teacher_before))   # the EMA teacher follows
    assert sum(losses[-3:]) < sum(losses[1:4])        # it learns the batch (compared after the first update)

def test_mocov3_run_settings_and_listing():
    from m3i_ref.train import make_config
    assert make_config(ROW_NAME, 'toy', {'id_variant': 'mocov3'}).ema_base == 0.99
    assert make_config(ROW_NAME, 'toy', {'id_variant': 'mocov3', 'ema_base': '0.995'}).ema_base == 0.995   # a --set wins
    assert make_config(ROW_NAME, 'toy', {}).ema_base == 0.995 and make_config(ROW_NAME, 'toy', {}).id_variant is None
    assert make_config(ROW_NAME, 'toy', {}).option(ROW[ROW_NAME], 'id_variant') == 'moco'       # the row's default is kept
    table = defaults_table()
    for key, d in VARIANTS['mocov3'].settings.items():
        assert f'| {ROW_NAME} (id_variant=mocov3) | {key} | {d.value} | {d.source} |' in table and d.source
