"""Named methods that are the methods (issue 24): `id_variant='mocov3'` is MoCo v3 (Chen, Xie, He 2021) exactly, and
`id_variant='msn'` on sim_global is MSN's loss (Assran et al. 2022). Each
test checks one part of its recipe against a value built here by hand from the paper's formula, never by calling the
loss function under test."""
import math
import pytest
import torch
import torch.nn as nn
from m3i_ref.methods import ModelConfig, Pretrainer, make_slots, Slot, defaults_table, likelihood_name, VARIANTS, ROW
from m3i_ref.likelihoods import LIKELIHOODS
from m3i_ref.views import Views, visible_indices
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


# --- id_variant='msn' on sim_global: Masked Siamese Networks (Assran et al. 2022), checked against MSN's formula by hand ---
MSN_ROW = 'sim_global'

def msn_by_hand(z, z_target, prototypes, tau=0.1, T=0.25, me_max=True, sinkhorn_steps=3, detach_target=True):
    '''MSN's loss written out (src/losses.py of facebookresearch/msn, in our words): softmax of cosine similarities to the
    prototypes over tau; the target sharpened (p^(1/T), renormalised) and passed through Sinkhorn-Knopp; the cross-entropy
    H(target, p); plus log K - H(mean of p over the batch).'''
    cos = lambda a, b: (a / a.norm(dim=1, keepdim=True)) @ (b / b.norm(dim=1, keepdim=True)).T
    softmax = lambda x: torch.exp(x) / torch.exp(x).sum(1, keepdim=True)
    p = softmax(cos(z, prototypes) / tau)
    protos_t = prototypes.detach() if detach_target else prototypes
    t = softmax(cos(z_target.detach() if detach_target else z_target, protos_t) / tau)
    t = t ** (1 / T); t = t / t.sum(1, keepdim=True)
    if sinkhorn_steps:
        q = t.T                                    # (K, B)
        k, b = q.shape
        q = q / q.sum()
        for _ in range(sinkhorn_steps):
            q = q / q.sum(1, keepdim=True) / k
            q = q / q.sum(0, keepdim=True) / b
        t = (q * b).T
    ce = -(t * torch.log(p)).sum(1).mean()
    if not me_max: return ce
    mean = p.mean(0)
    return ce + math.log(len(mean)) + (mean * torch.log(mean)).sum()

def msn_tensors(b=6, d=8, k=5, seed=0):
    "A fixed tiny batch: projections of the masked view, of the other view (near them), and prototypes (float64)."
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(b, d, generator=g, dtype=torch.float64)
    z_target = z + 0.5 * torch.randn(b, d, generator=g, dtype=torch.float64)
    return z, z_target, torch.randn(k, d, generator=g, dtype=torch.float64)

def msn_likelihood(prototypes):
    "The registry's MSN likelihood with the variant's settings, its prototypes set to `prototypes`."
    s = VARIANTS['msn'].settings
    opt = {**{k: d.value for k, d in s.items()}, 'prototypes': len(prototypes)}.get
    lik = LIKELIHOODS[s['likelihood'].value].build(opt, prototypes.shape[1]).double()
    with torch.no_grad(): lik.prototypes.copy_(prototypes)
    return lik

def test_msn_loss_equals_the_formula_by_hand():
    z, z_target, protos = msn_tensors()
    lik = msn_likelihood(protos)
    z, z_target = z.clone().requires_grad_(), z_target.clone().requires_grad_()
    got = lik(z, z_target)
    expected = msn_by_hand(z, z_target, protos)
    assert got.item() == pytest.approx(expected.item(), abs=1e-10)
    # each part counts: the test fails without sharpening, without me-max or without Sinkhorn
    for part in (dict(T=1.0), dict(me_max=False), dict(sinkhorn_steps=0)):
        assert abs(got.item() - msn_by_hand(z, z_target, protos, **part).item()) > 1e-3, part
    # the settings are MSN's, from the registry
    s = VARIANTS['msn'].settings
    assert (s['tau'].value, s['sharpen'].value, s['me_max'].value, s['sinkhorn'].value, s['ema_base'].value) == (0.1, 0.25, 1.0, True, 0.996)
    # no gradient through the target: none into the teacher's projection, and the prototypes' gradient is the student side's only
    got.backward()
    assert z_target.grad is None and z.grad is not None and z.grad.abs().sum() > 0
    p = protos.clone().requires_grad_()
    msn_by_hand(z.detach(), z_target.detach(), p).backward()
    torch.testing.assert_close(lik.prototypes.grad, p.grad, atol=1e-10, rtol=0)
    q = protos.clone().requires_grad_()
    msn_by_hand(z.detach(), z_target.detach(), q, detach_target=False).backward()
    assert (q.grad - p.grad).abs().max() > 1e-4            # a gradient through the target would be caught

def test_msn_me_max_is_zero_for_even_use_and_log_k_for_collapse():
    "The regulariser log K - H(mean p): 0 when the batch spreads evenly over the prototypes, log K when every image picks one."
    lik = msn_likelihood(torch.eye(4, dtype=torch.float64))
    lik.use_sinkhorn, lik.tau = False, 0.01                     # a low temperature: one-hot assignments
    even = torch.eye(4, dtype=torch.float64) * 100               # image i on prototype i, very sharply
    collapsed = torch.zeros(4, 4, dtype=torch.float64); collapsed[:, 0] = 100
    lik.me_max = 0.0
    ce_even, ce_collapsed = lik(even, even).item(), lik(collapsed, collapsed).item()
    lik.me_max = 1.0
    assert lik(even, even).item() - ce_even == pytest.approx(0.0, abs=1e-6)
    assert lik(collapsed, collapsed).item() - ce_collapsed == pytest.approx(math.log(4), abs=1e-6)

def build_msn(shapes, **kw):
    data, tok, _ = shapes
    cfg = ModelConfig(method=MSN_ROW, num_classes=data.num_classes, vocab_size=len(tok), patch=8, id_variant='msn', **kw)
    torch.manual_seed(0)
    return cfg, Pretrainer(cfg)

def test_msn_model_loss_equals_the_formula_by_hand(shapes):
    "The whole model: the student's projection of the masked view, the EMA teacher's of the other view, the shared prototypes."
    cfg, model = build_msn(shapes)
    model = moved_teacher(model, shapes, cfg)
    slot = batch(cfg, shapes, n=8)['a']
    head = model.heads[MSN_ROW]
    got = model({'a': slot})['loss']
    visible = visible_indices(slot.mask)
    assert slot.mask.float().mean().item() == pytest.approx(0.6, abs=0.1)       # the row's block mask hides the input
    z = head.predictor.projector(model.encoder(slot.views.input_view, visible).dense.mean(1))            # student: masked view
    with torch.no_grad():
        z_target = model.teacher.copies[head.projector_name](model.teacher.copies['encoder'](slot.views.target_view).dense.mean(1))
    expected = msn_by_hand(z, z_target, head.likelihood.prototypes)
    assert got.item() == pytest.approx(expected.item(), abs=1e-5)
    assert likelihood_name(ROW[MSN_ROW], cfg) == 'msn' and likelihood_name(ROW[MSN_ROW], ModelConfig(method=MSN_ROW)) == 'info_nce'   # not the default

def test_msn_heads_and_prototypes(shapes):
    cfg, model = build_msn(shapes)
    head = model.heads[MSN_ROW]
    mods = list(head.predictor.projector)                 # MSN's projector: Linear-BN-GELU, Linear-BN-GELU, Linear
    assert [type(m) for m in mods] == [nn.Linear, BatchNorm, nn.GELU] * 2 + [nn.Linear]
    assert mods[0].out_features == mods[3].out_features == cfg.hidden_dim and mods[-1].out_features == cfg.proj_dim
    assert isinstance(head.predictor.predictor, nn.Identity)                      # no predictor
    protos = head.likelihood.prototypes
    assert protos.shape == (VARIANTS['msn'].settings['prototypes'].value, cfg.proj_dim) and protos.requires_grad
    assert not any(p is protos for p in model.teacher.parameters())               # one set, the student's, used by the teacher too
    assert build_msn(shapes, prototypes=64)[1].heads[MSN_ROW].likelihood.prototypes.shape[0] == 64   # --set prototypes=64
    with pytest.raises(ValueError, match='prototypes=64 does not apply'): build(shapes, prototypes=64)   # not with InfoNCE
    with pytest.raises(ValueError, match="id_variant='msn' does not apply to instance_discrimination"):
        data, tok, _ = shapes
        Pretrainer(ModelConfig(method='instance_discrimination', num_classes=data.num_classes, vocab_size=len(tok), id_variant='msn'))

def test_msn_trains(shapes):
    cfg, model = build_msn(shapes)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    slots = batch(cfg, shapes, n=16)
    before = model.heads[MSN_ROW].likelihood.prototypes.detach().clone()
    losses = []
    for step in range(8):
        loss = model(slots)['loss']
        opt.zero_grad(); loss.backward(); opt.step(); model.momentum_update(0.996)
        losses.append(loss.item())
    assert not torch.equal(before, model.heads[MSN_ROW].likelihood.prototypes)    # the prototypes learn
    assert sum(losses[-3:]) < sum(losses[1:4])

def test_msn_run_settings_and_listing():
    from m3i_ref.train import make_config
    assert make_config(MSN_ROW, 'toy', {'id_variant': 'msn'}).ema_base == 0.996
    assert make_config(MSN_ROW, 'toy', {'id_variant': 'msn', 'ema_base': '0.99'}).ema_base == 0.99    # a --set wins
    assert make_config(MSN_ROW, 'toy', {}).ema_base == 0.995
    assert make_config(MSN_ROW, 'toy', {}).option(ROW[MSN_ROW], 'id_variant') == 'moco'                # the row's default is kept
    table = defaults_table()
    for key, d in VARIANTS['msn'].settings.items():
        assert f'| {MSN_ROW} (id_variant=msn) | {key} | {d.value} | {d.source} |' in table and d.source
