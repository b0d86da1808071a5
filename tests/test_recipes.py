"""Named methods that are the methods (issue 24): `id_variant='mocov3'` is MoCo v3 (Chen, Xie, He 2021) exactly;
`id_variant='dino'` is DINO's recipe, `id_variant='msn'` on sim_global MSN's loss (Assran et al. 2022);
`mim_variant='simmim'` is SimMIM's recipe and `mim_variant='data2vec'` data2vec vision's (mask tokens inside the encoder,
a linear head). Each test checks one part of its recipe against a value built here by hand from the paper's formula,
never by calling the loss function under test."""
import math
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from m3i_ref.methods import ModelConfig, Pretrainer, make_slots, Slot, defaults_table, likelihood_name, VARIANTS, ROW
from m3i_ref.likelihoods import LIKELIHOODS
from m3i_ref.views import Views, visible_indices
from m3i_ref.predictors import BatchNorm
from m3i_ref.results import diffs_text

ROW_NAME = 'instance_discrimination'

def results_page(path):
    "A page's JSON under docs/results (the measurement a default's source must quote)."
    import json, pathlib
    return json.loads((pathlib.Path(__file__).resolve().parents[1] / 'docs/results' / path).read_text())
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

def both_views(model, slot):
    "The student's predictions q and the momentum encoder's projections k of both views, from the model's submodules."
    head = model.heads[ROW_NAME]
    projector, predictor = head.predictor.projector, head.predictor.predictor
    t_encoder, t_projector = model.teacher.copies['encoder'], model.teacher.copies[head.projector_name]
    views = (slot.views.input_view, slot.views.target_view)
    q = [predictor(projector(model.encoder(x).dense.mean(1))) for x in views]        # student: encoder, GAP, projector, predictor
    with torch.no_grad(): k = [t_projector(t_encoder(x).dense.mean(1)) for x in views]   # momentum encoder: encoder, GAP, projector
    return q, k

def by_hand(model, slot, tau=TAU, directions=2):
    "MoCo v3's loss from the model's submodules: 2 tau [CE(q1 k2^T / tau, arange) + CE(q2 k1^T / tau, arange)], written out."
    q, k = both_views(model, slot)
    def ctr(q, k):
        q, k = q / q.norm(dim=1, keepdim=True), k / k.norm(dim=1, keepdim=True)
        logits = q @ k.T / tau
        return 2 * tau * (torch.logsumexp(logits, 1) - torch.diagonal(logits)).mean()   # CE with labels arange(N), times 2 tau
    return ctr(q[0], k[1]) + (ctr(q[1], k[0]) if directions == 2 else 0)

def loss_is_the_formula(shapes, variant, formula, **kw):
    "The variant's loss after a step (student and teacher apart) equals `formula` by hand, and not its one-direction form."
    cfg, model = build(shapes, id_variant=variant, **kw)
    model = moved_teacher(model, shapes, cfg)
    slot = batch(cfg, shapes)['a']
    got = model({'a': slot})['loss']
    assert got.item() == pytest.approx(formula(model, slot).item(), abs=1e-5)
    assert abs(got.item() - formula(model, slot, directions=1).item()) > 1e-3        # both directions count
    return cfg, model

def test_mocov3_loss_equals_the_formula_by_hand(shapes):
    loss_is_the_formula(shapes, 'mocov3', by_hand)
    # the settings it runs with are MoCo v3's, from the registry
    s = VARIANTS['mocov3'].settings
    assert s['tau'].value == TAU and s['symmetric'].value is True and s['symmetric_sum'].value is True and s['ema_base'].value == 0.99

def nt_xent_by_hand(model, slot, tau=TAU, directions=2):
    """lightly's NT-Xent (SimCLR's loss) in MoCo v3's place, from the model's submodules: the 2N normalised vectors z
    (queries, then keys); anchor i's positive is its pair (i + N mod 2N), its candidates every z_j with j != i; the mean of
    -log softmax over the 2N anchors, one loss per direction, the two summed; no 2 tau."""
    q, k = both_views(model, slot)
    def ntx(q, k):
        z = torch.cat([q / q.norm(dim=1, keepdim=True), k / k.norm(dim=1, keepdim=True)])
        n = len(q)
        terms = [torch.logsumexp(torch.stack([z[i] @ z[j] / tau for j in range(2 * n) if j != i]), 0) - z[i] @ z[(i + n) % (2 * n)] / tau
                 for i in range(2 * n)]
        return sum(terms) / (2 * n)
    return ntx(q[0], k[1]) + (ntx(q[1], k[0]) if directions == 2 else 0)

def test_nt_xent_form_equals_simclrs_loss_by_hand(shapes):
    """`contrastive_loss='nt_xent'` (lightly's MoCo v3 loss, to attribute the outside reference's lead) is SimCLR's
    NT-Xent on the same heads and views, summed over both directions, and not MoCo v3's ctr_loss; only the MoCo v3
    variant takes it, and an unknown form is refused with the valid ones."""
    cfg, model = loss_is_the_formula(shapes, 'mocov3', nt_xent_by_hand, contrastive_loss='nt_xent')
    slot = batch(cfg, shapes)['a']
    assert abs(model({'a': slot})['loss'].item() - by_hand(model, slot).item()) > 1e-3      # not MoCo v3's own loss
    assert ROW[ROW_NAME].defaults['contrastive_loss'].value == 'mocov3'                    # MoCo v3 exactly stays the default
    with pytest.raises(ValueError, match="contrastive_loss='nt_xent' is a form of MoCo v3's loss"):
        build(shapes, id_variant='moco', contrastive_loss='nt_xent')
    with pytest.raises(KeyError, match=r"unknown contrastive_loss 'simclr'; choose one of \['mocov3', 'nt_xent'\]"):
        build(shapes, id_variant='mocov3', contrastive_loss='simclr')

def test_the_contrastive_loss_default_cites_its_measurement():
    """MoCo v3's own loss stays the MoCo v3 variant's default, and its source quotes what the MoCo v3 loss page measured
    (`m3i-ref methods --defaults` shows it); the page's default is the same, so a re-run that changed it fails here."""
    page = results_page('ablations/cifar/mocov3-loss/mocov3-loss.json')
    d = ROW[ROW_NAME].defaults['contrastive_loss']
    assert d.value == page['default'] == 'mocov3' and page['reason'] in d.source and 'ablations/cifar/mocov3-loss' in d.source
    assert f'| {ROW_NAME} | contrastive_loss | {d.value} | {d.source} |' in defaults_table()

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

def test_the_rows_default_variant_is_the_measured_one():
    """The instance-discrimination row's default variant is what the MoCo v3 page's rule chose from its runs, with the
    page's measured reason in its source (`m3i-ref methods --defaults`), and a run of the bare row gets that variant's
    training settings (MoCo v3: EMA base 0.99)."""
    from m3i_ref.train import make_config
    from m3i_ref.methods import variant_train_defaults
    page = results_page('ablations/cifar/mocov3/mocov3.json')
    d = ROW[ROW_NAME].defaults['id_variant']
    assert d.value == page['default'] and page['reason'] in d.source and 'ablations/cifar/mocov3' in d.source
    assert f'| {ROW_NAME} | id_variant | {d.value} | {d.source} |' in defaults_table()
    bare = make_config(ROW_NAME, 'toy', {})
    assert bare.id_variant is None and bare.option(ROW[ROW_NAME], 'id_variant') == d.value
    assert bare.ema_base == variant_train_defaults(bare).get('ema_base', 0.995)
    assert ROW['sim_global'].defaults['id_variant'].value == 'moco'                            # the masked-view row keeps its own

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
    assert make_config(ROW_NAME, 'toy', {'id_variant': 'moco'}).ema_base == 0.995                      # moco: the training default
    table = defaults_table()
    for key, d in VARIANTS['mocov3'].settings.items():
        assert f'| {ROW_NAME} (id_variant=mocov3) | {key} | {d.value} | {d.source} |' in table and d.source


# ---------------------------------------------------------------------------------------------------------------------
# SimMIM and data2vec: hidden patches enter the encoder as a learned mask token; a linear head reads every position

def build_mim(shapes, method, variant, **kw):
    data, tok, _ = shapes
    cfg = ModelConfig(method=method, mim_variant=variant, num_classes=data.num_classes, vocab_size=len(tok), patch=8, **kw)
    torch.manual_seed(0)
    return cfg, Pretrainer(cfg)

def mask_token_forward(enc, view, hidden):
    "The ViT's forward written out from its parts: patch embeddings, the hidden ones swapped for the mask token, positions, [CLS], blocks, norm."
    tokens = enc.patch_embed(view).flatten(2).transpose(1, 2)                                   # (B, N, D), row-major
    tokens = torch.where(hidden[..., None], enc.mask_token.expand_as(tokens), tokens) + enc.pos_embed[:, 1:]
    x = torch.cat([(enc.cls_token + enc.pos_embed[:, :1]).expand(len(view), -1, -1), tokens], 1)
    for blk in enc.blocks: x, _ = blk(x)
    return enc.norm(x)[:, 1:]

def masked_rows(x, hidden):
    "The rows of x (B, N, ...) at the hidden patches, image by image, as one (B * k, ...) tensor."
    return x[hidden]

def test_vit_mask_token_mode_equals_the_sequence_by_hand(shapes):
    cfg, model = build_mim(shapes, 'mim_pixel', 'simmim')
    with torch.no_grad(): model.encoder.mask_token.normal_()                  # a token far from any patch embedding
    slot = batch(cfg, shapes)['a']
    hidden, view = slot.mask, slot.views.input_view
    assert model.input_modes == {'a': 'mask_token'} and hidden.any(1).all() and (~hidden).any(1).all()
    out = model.encode({'a': slot})['a']
    expected = mask_token_forward(model.encoder, view, hidden)
    assert out.dense.shape == (len(view), model.encoder.num_patches, model.encoder.dim)    # every patch, not only the visible ones
    assert torch.allclose(out.dense, expected, atol=1e-5)
    assert torch.equal(out.positions, torch.arange(model.encoder.num_patches).expand(len(view), -1))
    # the check can fail: the same blocks on the visible patches only (MAE), or without the swap, give other tokens
    dropped = model.encoder(view, keep=torch.arange(hidden.shape[1]).expand_as(hidden)[~hidden].view(len(view), -1)).dense
    assert dropped.shape[1] < expected.shape[1]
    assert not torch.allclose(mask_token_forward(model.encoder, view, torch.zeros_like(hidden)), expected, atol=1e-3)
    poisoned = view.clone()
    pix = hidden.view(-1, 1, 4, 4).repeat_interleave(8, 2).repeat_interleave(8, 3).expand_as(view)
    poisoned[pix] = 50.0                                                      # a hidden patch's pixels reach nothing
    assert torch.allclose(model.encoder(poisoned, mask=hidden).dense, out.dense, atol=1e-5)

def test_simmim_l1_on_masked_raw_pixels_by_hand(shapes):
    cfg, model = build_mim(shapes, 'mim_pixel', 'simmim')
    slot = batch(cfg, shapes)['a']
    hidden, view = slot.mask, slot.views.input_view
    head = model.heads['mim_pixel']
    assert type(head.predictor).__name__ == 'LinearDenseHead' and head.likelihood_name == 'l1'
    pred = head.predictor.head(mask_token_forward(model.encoder, view, hidden))                    # one Linear per token
    # SimMIM's target: the (mean/std-normalised) input pixels of each patch, no per-patch normalisation
    target = view.unfold(2, 8, 8).unfold(3, 8, 8).permute(0, 2, 3, 4, 5, 1).reshape(len(view), 16, 8 * 8 * 3)
    err = (pred - target).abs()                                                                     # (B, N, 192)
    expected = masked_rows(err, hidden).mean()                          # sum over masked pixels / their count (SimMIM's l1 / in_chans)
    got = model({'a': slot})['loss']
    assert got.item() == pytest.approx(expected.item(), abs=1e-5)
    assert abs(err.mean().item() - expected.item()) > 1e-3                                          # reading every patch would differ
    t = target
    normed = (t - t.mean(-1, keepdim=True)) / (t.var(-1, keepdim=True) + 1e-6).sqrt()                # MAE's norm_pix would differ
    assert abs(masked_rows((pred - normed).abs(), hidden).mean().item() - expected.item()) > 1e-3
    assert abs(masked_rows((pred - target) ** 2, hidden).mean().item() - expected.item()) > 1e-3    # so would MSE
    s = VARIANTS['simmim'].settings
    assert (s['norm_pix'].value, s['loss_on'].value, s['mask_ratio'].value, s['input_mode'].value) == (False, 'masked', 0.6, 'mask_token')

def layer_norm(t, eps=1e-5):
    "Parameter-free LayerNorm of each token over its channels, written out."
    return (t - t.mean(-1, keepdim=True)) / (t.var(-1, unbiased=False, keepdim=True) + eps).sqrt()

def instance_norm(t, eps=1e-5):
    "Each channel standardised over the image's tokens, written out."
    return (t - t.mean(1, keepdim=True)) / (t.var(1, unbiased=False, keepdim=True) + eps).sqrt()

def test_data2vec_target_and_smooth_l1_by_hand(shapes):
    cfg, model = build_mim(shapes, 'mim_feature', 'data2vec', vit='cifar')        # 4 blocks: K = the top half = 2
    opt = torch.optim.SGD(model.parameters(), lr=0.5)                              # student and teacher weights now differ
    opt.zero_grad(); model(batch(cfg, shapes, n=8, seed=1))['loss'].backward(); opt.step(); model.momentum_update(0.5)
    slot = batch(cfg, shapes)['a']
    hidden, view = slot.mask, slot.views.input_view
    head, K, beta = model.heads['mim_feature'], 2, 2.0
    assert head.target_layers == K and head.target_norm == 'layer' and head.likelihood_name == 'smooth_l1'
    teacher = model.teacher.copies['encoder']
    with torch.no_grad(): blocks = teacher(view, return_layers=True).layers                      # each block's output, before the final norm
    assert len(blocks) == 4
    target = layer_norm(sum(layer_norm(b) for b in blocks[-K:]) / K)      # data2vec vision: LN each top block, average, LN again
    assert torch.allclose(head.target_representation(slot, model.teacher), target, atol=1e-5)
    pred = head.predictor.head(mask_token_forward(model.encoder, view, hidden))                   # the student's linear regression head
    d = (pred - target).abs()
    smooth = torch.where(d < beta, d ** 2 / (2 * beta), d - beta / 2)                             # smooth L1 with beta = 2
    expected = masked_rows(smooth, hidden).mean()
    got = model({'a': slot})['loss']
    assert got.item() == pytest.approx(expected.item(), abs=1e-5)
    # the test can fail: every patch, another K, another norm, another beta each give another value
    def loss_with(t, where=hidden, b=beta):
        e = (pred - t).abs()
        return torch.where(e < b, e ** 2 / (2 * b), e - b / 2)[where].mean().item()
    assert abs(loss_with(target, torch.ones_like(hidden)) - expected.item()) > 1e-4
    for other in (layer_norm(blocks[-1]), layer_norm(sum(layer_norm(b) for b in blocks) / 4),
                  instance_norm(sum(instance_norm(b) for b in blocks[-K:]) / K)):
        assert abs(loss_with(other) - expected.item()) > 1e-4
    assert abs(loss_with(target, b=0.12) - expected.item()) > 1e-4                                 # the argument's default beta
    s = VARIANTS['data2vec'].settings
    assert (s['l1_beta'].value, s['target_norm'].value, s['target_layers'].value, s['loss_on'].value) == (2.0, 'layer', 'half', 'masked')

@pytest.mark.parametrize('method,variant', [('mim_pixel', 'simmim'), ('mim_feature', 'data2vec')])
def test_mask_token_variants_train(shapes, method, variant):
    cfg, model = build_mim(shapes, method, variant)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    slots = batch(cfg, shapes, n=16)
    token = model.encoder.mask_token.detach().clone()
    losses = []
    for _ in range(8):
        loss = model(slots)['loss']
        opt.zero_grad(); loss.backward(); opt.step(); model.momentum_update(0.99)
        losses.append(loss.item())
    assert not torch.equal(model.encoder.mask_token, token)                 # the mask token is learned
    assert sum(losses[-3:]) < sum(losses[:3])

def test_mask_token_variants_are_refused_where_they_do_not_apply(shapes):
    with pytest.raises(ValueError, match=r"mim_variant='simmim' does not apply to mim_feature; choose one of \['siameseim', 'data2vec'"):
        Pretrainer(ModelConfig(method='mim_feature', mim_variant='simmim'))
    with pytest.raises(ValueError, match=r"mim_variant='data2vec' does not apply to mim_pixel"):
        Pretrainer(ModelConfig(method='mim_pixel', mim_variant='data2vec'))
    with pytest.raises(ValueError, match='its mosaic fills'):                 # the M3I mosaic has no hidden patches to replace
        Pretrainer(ModelConfig(method='m3i', mim_variant='data2vec'))
    from m3i_ref.train import make_config
    with pytest.raises(ValueError, match='mim_variant'): make_config('instance_discrimination', 'toy', {'mim_variant': 'simmim'})

def test_other_runs_keep_their_encoder_and_mask_token_runs_export(shapes, tmp_path):
    "Only a mask-token recipe gives the ViT a mask token; load_encoder rebuilds it; the timm export leaves it out and says so."
    for method in ('mim_pixel', 'mim_feature', 'm3i', 'instance_discrimination'):
        assert 'mask_token' not in Pretrainer(ModelConfig(method=method)).encoder.state_dict(), method
    import json, warnings
    import m3i_ref
    from m3i_ref.train import make_config, train, load_encoder
    from m3i_ref.export import export_encoder, timm_state_dict
    train(make_config('mim_pixel', 'toy', dict(steps=2, train_size=64, test_size=32, batch_size=16, progress=False, eval_knn=False,
                                               out_dir=str(tmp_path / 'run'), mim_variant='simmim')))
    enc = load_encoder(tmp_path / 'run')
    assert enc.mask_token is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        pth, side = export_encoder(tmp_path / 'run', tmp_path / 'encoder.pth')
    assert 'mask_token' in json.loads(side.read_text())['left_out'] and any('mask_token' in str(w.message) for w in caught)
    sd = torch.load(pth, weights_only=True)
    assert 'mask_token' not in sd and len(sd) == len(enc.state_dict()) - 1
    timm = pytest.importorskip('timm')
    meta = json.loads(side.read_text())
    model = timm.models.vision_transformer.VisionTransformer(**meta['timm_kwargs']).eval()
    model.load_state_dict(sd, strict=True)
    x = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    with torch.no_grad(): assert torch.allclose(model(enc.preprocess(x)), m3i_ref.features(enc, x), atol=1e-5)

def test_mask_token_variants_are_listed_with_sources():
    from m3i_ref.train import make_config
    table = defaults_table()
    for name, row in (('simmim', 'mim_pixel'), ('data2vec', 'mim_feature')):
        for key, d in VARIANTS[name].settings.items():
            assert f'| {row} (mim_variant={name}) | {key} | {d.value} | {d.source} |' in table and d.source
        assert make_config(row, 'toy', {'mim_variant': name}).ema_base == make_config(row, 'toy', {}).ema_base   # the run's EMA schedule
    assert list(VARIANTS)[list(VARIANTS).index('siameseim') + 1:][:2] == ['simmim', 'data2vec']


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
    ablation = results_page('ablations/clip-negatives/clip-negatives.json')
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

# ---------------------------------------------------------------------------------------------------------------------
# BYOL (Grill et al. 2020) and Barlow Twins (Zbontar et al. 2021) as their released code runs them

def byol_by_hand(model, slot, directions=2):
    "BYOL's loss from the model's parts: l(q1, z'2) + l(q2, z'1), l(q, z) = mean over the batch of 2 - 2 q.z / (|q| |z|)."
    q, z = both_views(model, slot)
    l = lambda q, z: (2 - 2 * (q * z).sum(1) / (q.norm(dim=1) * z.norm(dim=1))).mean()
    return l(q[0], z[1]) + (l(q[1], z[0]) if directions == 2 else 0)

def test_byol_loss_and_heads_are_byols(shapes):
    cfg, model = loss_is_the_formula(shapes, 'byol', byol_by_hand)
    head = model.heads[ROW_NAME].predictor
    for mlp, first_in in ((head.projector, model.encoder.dim), (head.predictor, cfg.proj_dim)):   # BYOL's MLP, twice
        assert [type(m) for m in mlp] == [nn.Linear, BatchNorm, nn.ReLU, nn.Linear]
        assert mlp[0].in_features == first_in and mlp[0].bias is not None and mlp[1].affine and mlp[3].bias is None
        assert mlp[0].out_features == cfg.hidden_dim and mlp[3].out_features == cfg.proj_dim
    s = VARIANTS['byol'].settings
    assert s['ema_base'].value == 0.996 and s['symmetric'].value and s['symmetric_sum'].value and s['likelihood'].value == 'cosine'
    from m3i_ref.train import make_config
    assert make_config(ROW_NAME, 'toy', {'id_variant': 'byol'}).ema_base == 0.996
    with pytest.raises(ValueError, match="head_norm='layer' does not apply to the byol MLPs"): build(shapes, id_variant='byol', head_norm='layer')

def barlow_by_hand(z1, z2, lambd=0.0051, eps=1e-5):
    "Barlow Twins' loss written out entry by entry: standardise each feature over the batch (biased variance), C, then the two sums."
    n, d = z1.shape
    def standardise(z):
        cols = []
        for j in range(d):
            col = z[:, j]; mean = col.sum() / n; var = ((col - mean) ** 2).sum() / n
            cols.append((col - mean) / torch.sqrt(var + eps))
        return torch.stack(cols, 1)
    a, b = standardise(z1), standardise(z2)
    loss = 0
    for i in range(d):
        for j in range(d):
            c = (a[:, i] * b[:, j]).sum() / n
            loss = loss + ((c - 1) ** 2 if i == j else lambd * c ** 2)
    return loss

def test_barlow_twins_loss_equals_the_formula_by_hand():
    from m3i_ref.likelihoods import barlow_twins_loss
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(16, 6, generator=g, dtype=torch.float64), torch.randn(16, 6, generator=g, dtype=torch.float64)
    assert barlow_twins_loss(z1, z2).item() == pytest.approx(barlow_by_hand(z1, z2).item(), rel=1e-10)
    assert barlow_twins_loss(z1, z1).item() == pytest.approx(barlow_by_hand(z1, z1).item(), rel=1e-10)
    # a golden value: two features, four samples; z2 = z1 with feature 1 negated: C = [[1, 0], [0, -1]] after standardising
    z1 = torch.tensor([[1., 0.], [-1., 0.], [0., 1.], [0., -1.]], dtype=torch.float64)
    z2 = z1 * torch.tensor([1., -1.], dtype=torch.float64)
    s = 1 / math.sqrt(1 + 2e-5)                            # each variance is 1/2, standardised with eps 1e-5: (1/2) / (1/2 + eps)
    golden = (s * s - 1) ** 2 + (-s * s - 1) ** 2           # on the diagonal: C_00 = s^2, C_11 = -s^2; off the diagonal 0
    assert barlow_twins_loss(z1, z2).item() == pytest.approx(golden, abs=1e-12) and golden == pytest.approx(4.0, abs=1e-3)

def test_barlow_twins_gradient_is_barlow_twins(shapes):
    """Barlow Twins has no momentum encoder: both branches are the online network, with gradient. Ours runs both views
    against a teacher refreshed to the student every step (momentum 0) and sums the two stop-gradient halves; because the
    loss is symmetric, that is exactly Barlow Twins' gradient. Compared here parameter by parameter with the loss written
    out with gradient through both branches; the check fails with one direction, or with the halves averaged (both tried)."""
    cfg, model = build(shapes, id_variant='barlow')
    head = model.heads[ROW_NAME]
    assert head.predictor.predictor is None or isinstance(head.predictor.predictor, nn.Identity)        # no predictor
    assert [type(m) for m in head.predictor.projector] == [nn.Linear, BatchNorm, nn.ReLU, nn.Linear, BatchNorm, nn.ReLU, nn.Linear]
    assert all(m.bias is None for m in head.predictor.projector if isinstance(m, nn.Linear))
    slot = batch(cfg, shapes, n=8)['a']
    x1, x2 = slot.views.input_view, slot.views.target_view
    params = [p for p in list(model.encoder.parameters()) + list(head.parameters()) if p.requires_grad]
    ours = torch.autograd.grad(model({'a': slot})['loss'], params, allow_unused=True)
    z = [head.predictor.projector(model.encoder(x).dense.mean(1)) for x in (x1, x2)]          # both branches with gradient
    loss = barlow_by_hand(z[0], z[1])
    theirs = torch.autograd.grad(loss, params, allow_unused=True)
    pairs = [(a, b) for a, b in zip(ours, theirs) if b is not None]
    close = lambda a, b: (a - b).norm() <= 1e-4 * max(b.norm(), 1.0)    # float32 sums in another order (a bias whose gradient is ~0 is compared absolutely)
    assert len(pairs) > 10 and all(a is not None and close(a, b) for a, b in pairs)
    assert model({'a': slot})['loss'].item() == pytest.approx(2 * loss.item(), rel=1e-4)        # the reported loss: twice Barlow Twins'
    head.symmetric_sum = False                                                                # the halves averaged: half the gradient
    half = torch.autograd.grad(model({'a': slot})['loss'], params, allow_unused=True)
    head.symmetric_sum, head.symmetric = True, False                                         # one direction: another gradient
    one = torch.autograd.grad(model({'a': slot})['loss'], params, allow_unused=True)
    head.symmetric = True
    assert close(2 * half[1], theirs[1]) and not close(half[1], theirs[1]) and not close(one[1], theirs[1])
    from m3i_ref.train import make_config
    run = make_config(ROW_NAME, 'toy', {'id_variant': 'barlow'})
    assert run.ema_base == 0.0 and run.ema_final == 0.0                                       # the teacher is the student at every step
    assert make_config(ROW_NAME, 'toy', {'id_variant': 'barlow', 'ema_base': '0.5'}).ema_base == 0.5   # a --set wins
    with pytest.raises(ValueError, match="head_norm='layer' does not apply to the barlow MLPs"): build(shapes, id_variant='barlow', head_norm='layer')

@pytest.mark.parametrize('variant', ['byol', 'barlow'])
def test_byol_and_barlow_train(shapes, variant):
    cfg, model = build(shapes, id_variant=variant)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    slots = batch(cfg, shapes, n=16)
    momentum = VARIANTS[variant].settings['ema_base'].value
    losses = []
    for step in range(10):
        loss = model(slots)['loss']
        opt.zero_grad(); loss.backward(); opt.step(); model.momentum_update(momentum)
        losses.append(loss.item())
    assert sum(losses[-3:]) < sum(losses[1:4])        # it learns the batch (compared after the first update)
    if variant == 'barlow':                           # momentum 0: the teacher is the student after every update
        t = model.teacher.copies['encoder'].state_dict()
        assert all(torch.equal(v, t[k]) for k, v in model.encoder.state_dict().items() if 'running' not in k and 'num_batches' not in k)

def test_the_speed_benchs_plain_byol_is_our_byol_step(shapes):
    "bench speed's plain-PyTorch BYOL step (`PlainBYOL`) computes the same loss as the row with id_variant='byol': equal work."
    from m3i_ref.bench import PlainBYOL
    cfg, model = build(shapes, id_variant='byol')
    model = moved_teacher(model, shapes, cfg)
    slot = batch(cfg, shapes)['a']
    plain = PlainBYOL(model, ROW_NAME)(slot.views.input_view, slot.views.target_view)
    assert plain.item() == pytest.approx(model({'a': slot})['loss'].item(), abs=1e-5)

def test_mim_variant_defaults_cite_their_measurement():
    """The MIM rows keep their own settings as the default variant, and their sources give the toy page's per-seed
    differences as its JSON has them (`m3i-ref methods --defaults` shows them), and MIM pixel's the CIFAR-10 page's, whose
    rule chose the default: a re-run page that changes a number or a verdict fails here until the source says the same."""
    pairs = results_page('ablations/mim-variants/mim-variants.json')['pairs']
    said = lambda key: f"{diffs_text(pairs[key])} ({pairs[key]['verdict']})"
    for row, (variant, default) in {'mim_pixel': ('simmim', 'mae'), 'mim_feature': ('data2vec', 'siameseim')}.items():
        d = ROW[row].defaults['mim_variant']
        assert d.value == default and 'mim-variants' in d.source
        for metric, name in (('knn_top1', 'kNN per seed'), ('linear_top1', 'linear')):
            assert f'{name} {said(f"{row}/{variant}-{default}/{metric}")}' in d.source, (row, metric)
        assert f'| {row} | mim_variant | {default} | {d.source} |' in defaults_table()
    cifar = results_page('ablations/cifar/simmim/simmim.json')      # MIM pixel's pair at CIFAR-10 scale decided its default
    d = ROW['mim_pixel'].defaults['mim_variant']
    assert d.value == cifar['default'] and 'ablations/cifar/simmim' in d.source
    for c in cifar['comparisons'][:2]:
        assert (c['a'], c['b']) == ('simmim', 'mae')
        said = f"{diffs_text(c)} ({c['verdict']})"
        assert f"{'kNN per seed' if c['metric'] == 'knn_top1' else 'linear'} {said}" in d.source.split('at CIFAR-10 scale')[1], c['metric']

def test_autoencoder_target_default_cites_its_measurement():
    """The auto-encoder's `norm_pix` default is what the norm-pix page's rule chose (raw pixels replace MAE's normalised
    target only when ahead at both scales), and its source quotes that page's per-seed reason as the JSON has it: a re-run
    page that changes a number, a verdict or the choice fails here until the source says the same."""
    page = results_page('ablations/norm-pix/norm-pix.json')
    d = ROW['autoencoder'].defaults['norm_pix']
    assert d.value is page['default'] and 'ablations/norm-pix' in d.source and page['reason'] in d.source
    assert f'| autoencoder | norm_pix | {d.value} | {d.source} |' in defaults_table()
    for other in ('mim_pixel', 'novel_view_synthesis', 'sim_pixel'):      # the measurement was the auto-encoder's alone
        assert ROW[other].defaults['norm_pix'].source == 'MAE (norm_pix_loss)', other

@pytest.mark.parametrize('probe,option,rows', [('target-layers', 'target_layers', ('mim_feature', 'sim_feature')),
                                               ('loss-on', 'loss_on', ('mim_feature',)),
                                               ('dino-head', 'dino_head', ('global_distillation',))])
def test_lever_probe_defaults_cite_their_measurement(probe, option, rows):
    """Each lever probe (docs/results/ablations/cifar/lever.py: CIFAR-10 at three or more seeds, some on the toy data too) left
    its rows' default in place because no kNN gain held at both scales, and the default's source quotes the probe's per-seed
    kNN differences and verdict at each scale as its JSON has them: a re-run that moves a number, or a gain that holds at
    both scales (or on CIFAR-10 with no toy measurement: a default to decide again), fails here."""
    page = results_page(f'ablations/cifar/{probe}/{probe}.json')
    assert page['option'] == option and all(s[:3] == [0, 1, 2] for s in page['row_seeds'].values())
    knn = lambda p, row: next(c for c in p['comparisons'] if c['metric'] == 'knn_top1' and c['a'].startswith(f'{row}/') and c['b'].startswith(f'{row}/'))
    for row in rows:
        c, toy = knn(page, row), (knn(page['toy'], row) if 'toy' in page else None)
        d = ROW[row].defaults[option]
        assert not (c['verdict'] == 'holds' and (toy is None or toy['verdict'] == 'holds')) and d.value != page['value'], (row, c['verdict'])
        assert f'docs/results/ablations/cifar/{probe}' in d.source and f"{diffs_text(c)} ({c['verdict']})" in d.source, row
        assert toy is None or f"{diffs_text(toy)} ({toy['verdict']})" in d.source, row
        assert f'| {row} | {option} | {d.value!s} | {d.source} |' in defaults_table()
