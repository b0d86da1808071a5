"""Named methods that are the methods (issue 24): `id_variant='mocov3'` is MoCo v3 (Chen, Xie, He 2021) exactly. Each
test checks one part of its recipe against a value built here by hand from the paper's formula, never by calling the
loss function under test."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import math
from m3i_ref.methods import ModelConfig, Pretrainer, make_slots, Slot, defaults_table, ID_VARIANT_SETTINGS, ROW
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
    s = ID_VARIANT_SETTINGS['mocov3']
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
    for key, d in ID_VARIANT_SETTINGS['mocov3'].items():
        assert f'| {ROW_NAME} (id_variant=mocov3) | {key} | {d.value} | {d.source} |' in table and d.source

# CLIP's false negatives (issue 24): captions made from class names repeat within a batch; `clip_negatives='other_classes'`
# leaves the captions of the pair's class out of both softmaxes, 'all' (CLIP) keeps every other caption as a negative.
CLIP = 'clip'
REPEATED = torch.tensor([0, 0, 1, 1, 1, 2, 0, 3])       # classes 0 and 1 repeat, 2 and 3 do not

def clip_model(shapes, negatives, inv_tau=8.0):
    data, tok, _ = shapes
    cfg = ModelConfig(method=CLIP, num_classes=data.num_classes, vocab_size=len(tok), clip_negatives=negatives)
    torch.manual_seed(0)
    model = Pretrainer(cfg)
    model.heads[CLIP].likelihood.log_inv_tau.data.fill_(math.log(inv_tau))   # away from its initial 1/0.07: the learned value is used
    return cfg, model

def clip_by_hand(image, text, labels, tau, other_classes):
    """CLIP's symmetric InfoNCE written out per row: -log exp(s_ii / tau) / sum_{j in K_i} exp(s_ij / tau), K_i every
    caption of the batch ('all') or the pair and the captions of other classes ('other_classes'); then the same with texts
    as rows, and the mean of the two directions."""
    unit = lambda v: [x / math.sqrt(sum(y * y for y in v)) for x in v]
    image, text = [unit(v) for v in image.tolist()], [unit(v) for v in text.tolist()]
    labels = labels.tolist()
    def direction(rows, cols):
        total = 0.0
        for i, r in enumerate(rows):
            s = [sum(a * b for a, b in zip(r, c)) / tau for c in cols]
            keep = [j for j in range(len(cols)) if j == i or not other_classes or labels[j] != labels[i]]
            total += -(s[i] - math.log(sum(math.exp(s[j]) for j in keep)))
        return total / len(rows)
    return (direction(image, text) + direction(text, image)) / 2

def clip_pair(model, slot):
    "The model's prediction (image side) and target (caption side) for `slot`, from its own parts."
    head = model.heads[CLIP]
    return head.prediction(model.encode({'a': slot})['a'], slot), head.target_representation(slot, model.teacher)

@pytest.mark.parametrize('negatives', ['all', 'other_classes'])
def test_clip_negatives_loss_equals_the_formula_by_hand(shapes, negatives):
    cfg, model = clip_model(shapes, negatives)
    slot = batch(cfg, shapes, n=8)['a']
    slot.labels = REPEATED.clone()
    got = model({'a': slot})['loss']
    image, text = clip_pair(model, slot)
    expected = clip_by_hand(image.detach().double(), text.detach().double(), REPEATED, 1 / 8.0, negatives == 'other_classes')
    assert got.item() == pytest.approx(expected, abs=1e-5)
    other = clip_by_hand(image.detach().double(), text.detach().double(), REPEATED, 1 / 8.0, negatives != 'other_classes')
    assert abs(got.item() - other) > 1e-3                       # the two settings differ on this batch: the check can tell them apart
    # fixed vectors, a golden value: 3 pairs in 2 dimensions, classes (0, 0, 1), tau = 1
    lik = model.heads[CLIP].likelihood
    lik.log_inv_tau.data.fill_(0.0)
    img, txt = torch.tensor([[1., 0.], [0., 1.], [1., 1.]]), torch.tensor([[1., 0.], [1., 1.], [0., 1.]])
    class S: labels = torch.tensor([0, 0, 1])
    c, e = 1 / math.sqrt(2), math.exp
    # cosines s = img.txt^T = [[1, c, 0], [0, c, 1], [c, 1, c]], positives on the diagonal (1, c, c); s^T for text -> image
    lse = lambda *v: math.log(sum(e(x) for x in v))
    golden = {'all': (lse(1, c, 0) - 1 + lse(0, c, 1) - c + lse(c, 1, c) - c                 # image -> text, rows 0, 1, 2
                      + lse(1, 0, c) - 1 + lse(c, c, 1) - c + lse(0, 1, c) - c) / 6,         # text -> image
              'other_classes': (lse(1, 0) - 1 + lse(c, 1) - c + lse(c, 1, c) - c             # row 0 drops caption 1, row 1 caption 0
                                + lse(1, c) - 1 + lse(c, 1) - c + lse(0, 1, c) - c) / 6}     # the same sets from the text side
    assert lik(img, txt, S).item() == pytest.approx(golden[negatives], abs=1e-6)
    assert golden[negatives] == pytest.approx(clip_by_hand(img, txt, S.labels, 1.0, negatives == 'other_classes'), abs=1e-12)

def test_clip_other_classes_removes_the_same_class_captions(shapes):
    "Would fail if same-class captions stayed in the softmax, or if other-class captions left it."
    cfg, model = clip_model(shapes, 'other_classes')
    _, plain = clip_model(shapes, 'all')
    slot = batch(cfg, shapes, n=8)['a']
    slot.labels = torch.zeros(8, dtype=torch.long)               # one class: only the pair itself is left, the loss is exactly 0
    assert model({'a': slot})['loss'].item() == 0.0 and plain({'a': slot})['loss'].item() > 0.1
    slot.labels = torch.arange(8)                                # all classes different: nothing to remove, CLIP's loss exactly
    assert model({'a': slot})['loss'].item() == pytest.approx(plain({'a': slot})['loss'].item(), abs=1e-6)
    # a duplicate of the positive caption (one template, one class) takes half of CLIP's softmax; the class-aware loss drops it
    img, txt = torch.eye(4)[:3], torch.eye(4)[[0, 0, 2]]
    class S: labels = torch.tensor([0, 0, 1])
    assert model.heads[CLIP].likelihood(img, txt, S).item() < plain.heads[CLIP].likelihood(img, txt, S).item() - 1.0

def test_clip_negatives_option_is_checked_listed_and_reaches_the_likelihood(shapes):
    from m3i_ref.train import make_config
    from m3i_ref.likelihoods import CLIP_NEGATIVES
    with pytest.raises(ValueError, match=r"clip_negatives='same_class'; choose one of \('all', 'other_classes'\)"):
        clip_model(shapes, 'same_class')
    with pytest.raises(ValueError, match=r"clip_negatives='other_classes' does not apply to 'mim_feature'.*\['clip'\]"):
        make_config('mim_feature', 'toy', {'clip_negatives': 'other_classes'})
    import json, pathlib
    ablation = json.loads((pathlib.Path(__file__).resolve().parents[1] / 'docs/results/ablations/clip-negatives/clip-negatives.json').read_text())
    d = ROW[CLIP].defaults['clip_negatives']
    assert d.value == ablation['default'] and ablation['reason'] in d.source and 'clip-negatives' in d.source   # the measured reason, not a stale copy
    assert f'| clip | clip_negatives | {d.value} | {d.source} |' in defaults_table()       # `m3i-ref methods --defaults` shows it
    assert make_config(CLIP, 'toy', {}).option(ROW[CLIP], 'clip_negatives') == d.value and CLIP_NEGATIVES == ('all', 'other_classes')
    for neg in CLIP_NEGATIVES: assert make_config(CLIP, 'toy', {'clip_negatives': neg}).option(ROW[CLIP], 'clip_negatives') == neg
    for neg in CLIP_NEGATIVES: assert clip_model(shapes, neg)[1].heads[CLIP].likelihood.negatives == neg
    m3i = Pretrainer(ModelConfig(method='m3i', semantic='text', num_classes=shapes[0].num_classes, vocab_size=len(shapes[1]),
                                 row_options={CLIP: {'clip_negatives': 'all'}}))
    assert m3i.heads[CLIP].likelihood.negatives == 'all'                                   # a row-scoped setting reaches M3I's clip row

def test_false_negative_share_counts_same_class_negatives():
    from m3i_ref.likelihoods import false_negative_share, expected_false_negative_share
    # by hand: classes (0, 0, 1, 1, 1, 2, 0, 3): ordered same-class pairs 3*2 + 3*2 = 12 of 8*7 negatives
    assert false_negative_share(REPEATED) == pytest.approx(12 / 56)
    assert false_negative_share(REPEATED[:4], REPEATED, offset=0) == pytest.approx((2 + 2 + 2 + 2) / (4 * 7))   # rows of one process
    assert expected_false_negative_share([5000] * 10) == pytest.approx(4999 / 49999)   # CIFAR-10 (balanced): just under 1/10
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(6000) % 6
    shares = [false_negative_share(labels[torch.randperm(6000, generator=g)[:64]]) for _ in range(400)]
    assert sum(shares) / len(shares) == pytest.approx(expected_false_negative_share([1000] * 6), abs=0.005)
