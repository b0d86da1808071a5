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


# --- DINO (Caron et al. 2021; main_dino.py and vision_transformer.py of facebookresearch/dino): `id_variant='dino'` ---

def dino_build(shapes, **kw):
    return build(shapes, id_variant='dino', **kw)

def dino_moved(model):
    "Student weights nudged away from the teacher's and a non-zero centre (a step of SGD would collapse DINO's fresh head)."
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad: p.add_(torch.randn(p.shape, generator=g) * 0.02)
        lik = model.heads[ROW_NAME].likelihood
        lik.center.copy_(torch.randn(lik.center.shape, generator=g) * 0.02)
    return model

def softmax(row, temp):
    "softmax(row / temp) of a plain list of floats, written out."
    import math
    m = max(v / temp for v in row)
    e = [math.exp(v / temp - m) for v in row]
    return [x / sum(e) for x in e]

def dino_by_hand(student, teacher, center, t_temp, s_temp=0.1, same_crop=False):
    '''DINO's loss on plain numbers: student[j][b] and teacher[i][b] are lists of logits (crop, image), `center` a list.
    The mean over the pairs (teacher crop i, student crop j), j != i, of the batch mean of -sum_k P_t(k) log P_s(k), with
    P_t = softmax((t - center) / t_temp) and P_s = softmax(s / s_temp). `same_crop`: also the pairs j == i (wrong).'''
    import math
    terms = []
    for i, t_crop in enumerate(teacher):
        for j, s_crop in enumerate(student):
            if j == i and not same_crop: continue
            ce = [-sum(p * math.log(q) for p, q in zip(softmax([a - c for a, c in zip(t, center)], t_temp), softmax(s, s_temp)))
                  for t, s in zip(t_crop, s_crop)]
            terms.append(sum(ce) / len(ce))
    return sum(terms) / len(terms)

def test_dino_loss_on_fixed_logits_equals_the_formula_by_hand():
    "2 global + 2 local crops of 3 images, fixed logits: the variant's likelihood against DINO's formula on plain numbers."
    from m3i_ref.methods import RowHead
    cfg = ModelConfig(method=ROW_NAME, id_variant='dino', local_crops=2, patch=8)
    lik = RowHead(ROW[ROW_NAME], cfg, 64).likelihood
    K = lik.center.shape[0]
    g = torch.Generator().manual_seed(0)
    student = [torch.randn(3, K, generator=g, dtype=torch.float64) * 2 for _ in range(4)]      # crops g1, g2, l1, l2
    teacher = [torch.randn(3, K, generator=g, dtype=torch.float64) * 0.1 for _ in range(2)]    # crops g1, g2
    center = torch.randn(K, generator=g, dtype=torch.float64) * 0.05
    lik.center = center.clone()
    lik.set_progress(1, 10)                                # 10% of the run: the temperature is a third of the way up
    t_temp = 0.04 + (0.07 - 0.04) * 0.1 / 0.3
    assert lik.temperature == pytest.approx(t_temp)
    L = lambda ts: [t.tolist() for t in ts]
    got = lik.train()(student, teacher).item()
    want = dino_by_hand(L(student), L(teacher), center.tolist(), t_temp)
    assert got == pytest.approx(want, rel=1e-9)
    # the test sees the mistakes it guards against: the pairs j == i, a teacher that also sees the local crops
    assert abs(want - dino_by_hand(L(student), L(teacher), center.tolist(), t_temp, same_crop=True)) > 1e-2
    assert abs(want - dino_by_hand(L(student), L(student), center.tolist(), t_temp)) > 1e-2
    # the centre: momentum 0.9 towards the teacher's mean output over both global crops (the raw logits, not centred)
    mean = [sum(t[b][k] for t in L(teacher) for b in range(3)) / 6 for k in range(K)]
    assert torch.allclose(lik.center, torch.tensor([0.9 * c + 0.1 * m for c, m in zip(center.tolist(), mean)], dtype=torch.float64), atol=1e-12)
    s = VARIANTS['dino'].settings
    assert (s['student_temp'].value, s['center_momentum'].value, s['warmup_teacher_temp'].value, s['teacher_temp'].value) == (0.1, 0.9, 0.04, 0.07)

def test_dino_teacher_temperature_warms_up_by_hand(shapes):
    "Linear from 0.04 to 0.07 over the first 30% of the run, then constant; the model's `set_progress` reaches the likelihood."
    cfg, model = dino_build(shapes)
    lik = model.heads[ROW_NAME].likelihood
    for step, want in ((0, 0.04), (150, 0.04 + 0.03 * 0.15 / 0.3), (299, 0.04 + 0.03 * 0.299 / 0.3), (300, 0.07), (999, 0.07)):
        model.set_progress(step, 1000)
        assert lik.temperature == pytest.approx(want, abs=1e-12), step

def test_dino_model_loss_is_the_formula_with_the_models_parts(shapes):
    "The whole forward: the student's head on all four crops, the teacher's on the two global crops, centred, by hand."
    cfg, model = dino_build(shapes, local_crops=2)
    model = dino_moved(model)
    model.set_progress(100, 1000)
    head, lik = model.heads[ROW_NAME], model.heads[ROW_NAME].likelihood
    slot = batch(cfg, shapes, n=3)['a']
    assert len(slot.local_views) == 2 and slot.local_views[0].shape == (3, 3, 16, 16)
    projector, t_encoder, t_projector = head.predictor.projector, model.teacher.copies['encoder'], model.teacher.copies[head.projector_name]
    assert isinstance(head.predictor.predictor, nn.Identity)                                        # no predictor
    crops = [slot.views.input_view, slot.views.target_view, *slot.local_views]
    with torch.no_grad():
        student = [projector(model.encoder(x).dense.mean(1)).double().tolist() for x in crops]
        teacher = [t_projector(t_encoder(x).dense.mean(1)).double().tolist() for x in crops[:2]]
        everything = [t_projector(t_encoder(x).dense.mean(1)).double().tolist() for x in crops]   # a teacher that saw the local crops
    center = lik.center.double().tolist()
    t_temp = 0.04 + 0.03 * 0.1 / 0.3
    want = dino_by_hand(student, teacher, center, t_temp)
    got = model({'a': slot})['loss'].item()
    assert got == pytest.approx(want, abs=1e-5)
    assert abs(want - dino_by_hand(student, teacher, center, t_temp, same_crop=True)) > 1e-3
    assert abs(want - dino_by_hand(student, everything, center, t_temp)) > 1e-3
    assert cfg.option(ROW[ROW_NAME], 'local_crops') == 2                   # a --set wins over the variant's count

def test_dino_head_is_dinos(shapes):
    "3 Linear layers with GELU (no norm) to the bottleneck, l2-normalised, unit prototypes; frozen for the first 1% of the run."
    from m3i_ref.predictors import DinoHead
    cfg, model = dino_build(shapes)
    head = model.heads[ROW_NAME].predictor.projector
    assert isinstance(head, DinoHead)
    assert [type(m) for m in head.mlp] == [nn.Linear, nn.GELU, nn.Linear, nn.GELU, nn.Linear]
    assert head.mlp[0].out_features == cfg.hidden_dim and head.mlp[-1].out_features == cfg.proj_dim
    assert head.prototypes.shape == (VARIANTS['dino'].settings['prototypes'].value, cfg.proj_dim)
    assert all(float(m.bias.detach().abs().max()) == 0 and float(m.weight.detach().std()) < 0.03 for m in head.mlp if isinstance(m, nn.Linear))   # DINO's init
    x = torch.randn(5, model.encoder.dim)
    by_hand = nn.functional.normalize(head.mlp(x), dim=-1) @ (head.prototypes / head.prototypes.norm(dim=1, keepdim=True)).T
    assert torch.allclose(head(x), by_hand, atol=1e-6)
    assert isinstance(model.teacher.copies[model.heads[ROW_NAME].projector_name], DinoHead)      # the teacher has the head
    for step, moves in ((0, False), (9, False), (10, True)):                                   # 1% of 1,000 steps
        model.set_progress(step, 1000); model.zero_grad()
        model(batch(cfg, shapes))['loss'].backward()
        assert bool(head.prototypes.grad.abs().sum() > 0) == moves and head.mlp[0].weight.grad.abs().sum() > 0
    _, bn = dino_build(shapes, head_norm='batch')                                                 # DINO's --use_bn_in_head true
    assert any(isinstance(m, nn.BatchNorm1d) for m in bn.heads[ROW_NAME].predictor.projector.mlp)

def test_dino_run_settings_refusals_and_listing(shapes):
    from m3i_ref.train import make_config, build_run, train_step
    assert make_config(ROW_NAME, 'toy', {'id_variant': 'dino'}).ema_base == 0.996
    with pytest.raises(ValueError, match="local_crops=2 needs a loss over every crop"): build(shapes, local_crops=2)   # moco: two views
    with pytest.raises(ValueError, match="symmetric=True does not apply"): dino_build(shapes, symmetric=True)
    with pytest.raises(ValueError, match="local_crops=-1 must be >= 0"): make_config(ROW_NAME, 'toy', {'id_variant': 'dino', 'local_crops': '-1'})
    _, none = dino_build(shapes, local_crops=0)
    assert batch(none.cfg, shapes)['a'].local_views is None and torch.isfinite(none(batch(none.cfg, shapes))['loss'])
    table = defaults_table()
    for key, d in VARIANTS['dino'].settings.items():
        assert f'| {ROW_NAME} (id_variant=dino) | {key} | {d.value} | {d.source} |' in table and d.source
    assert list(VARIANTS).index('dino') == list(VARIANTS).index('mocov3') + 1

def test_the_training_loop_tells_the_model_its_progress(tmp_path):
    "train_step calls `set_progress(step, total)` before the step's forward: the warm-up reads the step it trains."
    from m3i_ref.train import make_config, build_run, train_step
    cfg = make_config(ROW_NAME, 'toy', dict(id_variant='dino', steps=4, train_size=64, test_size=32, batch_size=8, eval_knn=False,
                                            progress=False, out_dir=str(tmp_path)))
    run = build_run(cfg)
    seen = []
    lik = run.model.heads[ROW_NAME].likelihood
    original = lik.forward
    lik.forward = lambda *a, **k: (seen.append(lik.temperature), original(*a, **k))[1]
    try:
        for step in range(3): train_step(run, step)
    finally: run.lock.release()
    assert seen == pytest.approx([0.04 + 0.03 * (s / 4) / 0.3 if s / 4 < 0.3 else 0.07 for s in range(3)])
