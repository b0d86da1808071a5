import math
import pytest
import torch
from m3i_ref.methods import ROWS, ROW, METHODS, ModelConfig, Pretrainer, make_slots, canonical_method, methods_table, m3i_recipe
from m3i_ref.targets import ema_momentum

def build(method, shapes, **kw):
    data, tok, _ = shapes
    cfg = ModelConfig(method=method, num_classes=data.num_classes, vocab_size=len(tok), **kw)
    torch.manual_seed(0)
    return cfg, Pretrainer(cfg)

def slots_for(cfg, shapes, n=16, seed=0):
    data, tok, (mean, std) = shapes
    return make_slots(cfg, data.batch(torch.arange(n)), mean, std, torch.Generator().manual_seed(seed), tok)

def test_registry_has_the_14_rows_and_m3i():
    assert len(ROWS) == 14 and len(METHODS) == 16
    families = [r.family for r in ROWS]
    assert families.count('intra-view') == 6 and families.count('inter-view') == 6
    assert canonical_method('id_mask') == 'sim_global' == canonical_method('instance_discrimination_mask')
    with pytest.raises(ValueError, match="unknown method 'byol2'"): canonical_method('byol2')

def test_every_default_says_where_it_comes_from():
    for r in ROWS:
        for k, d in r.defaults.items():
            assert isinstance(d.source, str) and len(d.source) > 2, (r.name, k)

def test_table_is_printed_from_the_registry():
    table = methods_table()
    for r in ROWS: assert r.title in table and r.name in table
    assert 'masked view2' in table and 'M3I Pre-training w/o mix' in table

@pytest.mark.parametrize('method', METHODS)
def test_row_shapes_and_finite_loss(method, shapes):
    cfg, model = build(method, shapes)
    slots = slots_for(cfg, shapes)
    out = model(slots)
    assert out['loss'].dim() == 0 and torch.isfinite(out['loss'])
    assert out['features'].shape == (16, model.encoder.dim) and not out['features'].requires_grad
    for k, v in out['terms'].items(): assert v.dim() == 0 and torch.isfinite(v), k
    if method == 'm3i':
        assert set(out['terms']) == {'mim_feature@a', 'sim_feature@b', 'classification@a', 'classification@b'}

@pytest.mark.parametrize('method', [r.name for r in ROWS if r.predictor == 'dense decoder'])
def test_dense_prediction_shapes(method, shapes):
    cfg, model = build(method, shapes)
    slots = slots_for(cfg, shapes)
    head, slot = model.heads[method], slots['a']
    enc = model.encode(slots)['a']
    pred = head.prediction(enc, slot)
    target = head.target_representation(slot, model.teacher)
    n = (cfg.img_size // cfg.patch) ** 2
    assert pred.shape == target.shape and pred.shape[:2] == (16, n)
    if ROW[method].masked: assert enc.dense.shape[1] == n - round(cfg.option(ROW[method], 'mask_ratio') * n)

def test_classification_starts_at_log_c(shapes):
    cfg, model = build('classification', shapes)
    loss = model(slots_for(cfg, shapes))['loss'].item()
    assert abs(loss - math.log(cfg.num_classes)) < 0.05

@pytest.mark.parametrize('method,n,kw', [('dense_instance_discrimination', 64, {}), ('instance_discrimination', 16, {'id_variant': 'moco'}),
                                         ('sim_global', 16, {})])
def test_boltzmann_with_negatives_starts_near_log_n(method, n, kw, shapes):
    cfg, model = build(method, shapes, **kw)                     # one InfoNCE at random init: about log n (MoCo v3's scales it by 2 tau, twice)
    loss = model(slots_for(cfg, shapes))['loss'].item()
    assert abs(loss - math.log(n)) < 0.25 * math.log(n), loss

@pytest.mark.parametrize('method', METHODS)
def test_gradients_reach_exactly_the_right_parameters(method, shapes):
    cfg, model = build(method, shapes)
    model(slots_for(cfg, shapes))['loss'].backward()
    for name, p in model.named_parameters():
        if name.startswith('teacher.'):
            assert not p.requires_grad and p.grad is None, name
        elif p.requires_grad:
            assert p.grad is not None and p.grad.abs().sum() > 0, f'{method}: no gradient reaches {name}'
    if method in ('classification', 'm3i'): assert model.heads['classification'].target.weight.grad.abs().sum() > 0
    if method == 'clip': assert all(p.grad is not None for p in model.heads['clip'].target.parameters())

def test_ema_update_matches_formula(shapes):
    cfg, model = build('sim_feature', shapes)
    before = {k: v.clone() for k, v in model.teacher.copies['encoder'].state_dict().items()}
    with torch.no_grad():
        for p in model.encoder.parameters(): p.add_(1.0)
    m = ema_momentum(3, 10)
    model.momentum_update(m)
    student = model.encoder.state_dict()
    for k, v in model.teacher.copies['encoder'].state_dict().items():
        torch.testing.assert_close(v, m * before[k] + (1 - m) * student[k])
    assert abs(ema_momentum(0, 10) - 0.995) < 1e-9 and ema_momentum(10, 10) == 1.0

def test_global_rows_follow_projector_too(shapes):
    cfg, model = build('instance_discrimination', shapes)
    assert set(model.students()) == {'encoder', 'projector_instance_discrimination'}
    with torch.no_grad():
        for p in model.heads['instance_discrimination'].predictor.projector.parameters(): p.add_(1.0)
    model.momentum_update(0.0)
    for a, b in zip(model.teacher.copies['projector_instance_discrimination'].parameters(),
                    model.heads['instance_discrimination'].predictor.projector.parameters()):
        assert torch.equal(a, b)

@pytest.mark.parametrize('method', METHODS)
def test_loss_falls_when_overfitting_one_batch(method, shapes):
    cfg, model = build(method, shapes)
    slots = slots_for(cfg, shapes, n=16, seed=3)
    if method == 'global_distillation': model.heads[method].likelihood.eval()   # a fixed centre keeps the teacher's target fixed
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    losses = []
    for _ in range(40):
        loss = model(slots)['loss']
        opt.zero_grad(); loss.backward(); opt.step()
        losses.append(loss.item())
    assert min(losses[-5:]) < 0.8 * losses[0], f'{method}: {losses[0]:.3f} -> {losses[-1]:.3f}'

def test_m3i_mixes_and_nomix_does_not(shapes):
    cfg, model = build('m3i', shapes)
    slots = slots_for(cfg, shapes)
    assert torch.equal(slots['a'].mask, ~slots['b'].mask)
    assert torch.equal(slots['b'].labels, shapes[0].labels[:16][torch.arange(16) ^ 1])
    enc = model.encode(slots)
    n = (cfg.img_size // cfg.patch) ** 2
    assert enc['a'].dense.shape[1] + enc['b'].dense.shape[1] == n
    assert model.recipe.mix and not ModelConfig(method='m3i_nomix').recipe().mix
    with pytest.raises(ValueError, match='must be even'):
        make_slots(cfg, shapes[0].batch(torch.arange(5)), *shapes[2], torch.Generator(), shapes[1])

def test_m3i_variants(shapes):
    for semantic, rows in [('text', {'clip'}), ('both', {'clip', 'classification'})]:
        cfg, model = build('m3i', shapes, semantic=semantic)
        out = model(slots_for(cfg, shapes))
        assert rows <= {k.split('@')[0] for k in out['terms']}
    cfg, model = build('m3i', shapes, label_mix='soft')
    slots = slots_for(cfg, shapes)
    assert torch.allclose(slots['mix'].soft_labels.sum(1), torch.ones(16))
    assert 'classification@mix' in model(slots)['terms']

def test_soft_label_weights_each_image_by_its_share_of_the_mosaic(shapes):
    "At mix_ratio 0.75 image b shows on 3/4 of the patches, so its class gets 3/4 of the label (the default 0.5 cannot tell them apart)."
    cfg, model = build('m3i', shapes, label_mix='soft', mix_ratio=0.75)
    slots = slots_for(cfg, shapes)
    la, lb = slots['a'].labels, slots['b'].labels
    differ = la != lb
    assert differ.any()
    share_b = slots['a'].mask.float().mean(1)                 # the mosaic shows b where a is hidden
    assert torch.allclose(share_b, torch.full_like(share_b, 0.75), atol=0.02)
    assert torch.allclose(slots['mix'].soft_labels[differ, lb[differ]], share_b[differ])

def test_instance_discrimination_variants(shapes):
    from m3i_ref.likelihoods import info_nce, cosine_loss, barlow_twins_loss
    for variant, loss, fn in [('moco', 'info_nce', info_nce), ('byol', 'cosine', cosine_loss), ('barlow', 'barlow', barlow_twins_loss)]:
        cfg, model = build('instance_discrimination', shapes, id_variant=variant)
        head = model.heads['instance_discrimination']
        assert head.likelihood_name == loss and head.likelihood.fn is fn
        assert torch.isfinite(model(slots_for(cfg, shapes))['loss'])
