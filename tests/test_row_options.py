"Row options for the self-distillation and instance-discrimination rows, and the budget-aware EMA schedule: each option's effect on the loss."
import math
import pytest
import torch
import torch.nn as nn
from m3i_ref.methods import ROW, ModelConfig, Pretrainer, Slot, make_slots
from m3i_ref.views import Views, masked_indices
from m3i_ref.targets import ema_momentum, ema_base_for, teacher_init_share
from m3i_ref.predictors import DinoHead
from m3i_ref.train import make_config, train

from test_methods import build, slots_for          # the same model and batch helpers as the method tests

def test_schedule_end_values_and_budget_rule():
    assert ema_momentum(0, 50, 0.9, 0.99) == pytest.approx(0.9) and ema_momentum(50, 50, 0.9, 0.99) == pytest.approx(0.99)
    assert ema_base_for(10**7) == 0.995 and ema_base_for(5) == 0.0                    # long runs keep SiameseIM's value
    for t in (200, 781, 5000):
        assert teacher_init_share(t, ema_base_for(t)) <= math.exp(-5) * 1.05            # the rule's promise
    assert teacher_init_share(781, 0.995) > 0.1                                         # what it fixes

def test_train_follows_ema_base_and_final(tmp_path):
    "A constant momentum of 0.5 (base = final = 0.5) for one step: teacher = (init + student) / 2, read from the weights."
    from m3i_ref.data import make_shapes
    from m3i_ref.train import load_checkpoint
    data = (make_shapes(64, seed=0), make_shapes(32, seed=1))
    cfg = make_config('mim_feature', 'toy', dict(steps=1, batch_size=16, ema_base=0.5, ema_final=0.5, out_dir=str(tmp_path / 'r'),
                                                 progress=False, eval_knn=False))
    train(cfg, data=data)
    sd = load_checkpoint(tmp_path / 'r' / 'checkpoint.pt')['model']
    # the teacher started as a copy of the encoder: rebuild that copy from the seed
    from m3i_ref.train import model_config
    mcfg = model_config(cfg); mcfg.num_classes, mcfg.vocab_size = data[0].num_classes, 2
    torch.manual_seed(cfg.seed); start = Pretrainer(mcfg).encoder.state_dict()
    key = 'blocks.0.attn.qkv.weight'
    expected = 0.5 * start[key] + 0.5 * sd[f'encoder.{key}']
    assert torch.allclose(sd[f'teacher.copies.encoder.{key}'], expected, atol=1e-6)

def test_auto_ema_base_is_accepted_and_range_checked():
    assert make_config('mim_feature', 'toy', {'ema_base': 'auto'}).ema_base is None
    with pytest.raises(ValueError, match='ema_final=1.5 must be in'): make_config('mim_feature', 'toy', {'ema_final': '1.5'})

def test_target_layers_changes_the_target_to_the_mean_of_top_blocks(shapes):
    cfg1, m1 = build('mim_feature', shapes)
    cfg2, m2 = build('mim_feature', shapes, target_layers=2)
    slot = slots_for(cfg1, shapes)['a']
    t1 = m1.heads['mim_feature'].target_representation(slot, m1.teacher)
    t2 = m2.heads['mim_feature'].target_representation(slot, m2.teacher)
    assert torch.allclose(t2, m2.teacher.dense(slot.views.target_view, 2, cfg2.option(ROW['mim_feature'], 'target_norm'))) and not torch.allclose(t1, t2, atol=1e-3)
    assert m1(slots_for(cfg1, shapes))['loss'].item() != pytest.approx(m2(slots_for(cfg2, shapes))['loss'].item())

def test_more_dense_negatives_raise_the_loss(shapes):
    "Same weights, same batch: adding candidates to the softmax can only raise the InfoNCE loss."
    loss = {}
    for neg in ('image', 'other_images', 'both'):
        cfg, model = build('dense_instance_discrimination', shapes, negatives=neg)
        loss[neg] = model(slots_for(cfg, shapes))['loss'].item()
    assert loss['both'] > loss['image'] and loss['both'] > loss['other_images']

def test_symmetric_loss_is_the_mean_of_both_directions(shapes):
    cfg, model = build('instance_discrimination', shapes, id_variant='moco', symmetric=True)   # moco: one direction unless asked
    slots = slots_for(cfg, shapes)
    out = model(slots)['loss']
    head, slot = model.heads['instance_discrimination'], slots['a']
    v = slot.views
    swapped = Slot(Views(v.target_view, v.input_view, v.target_geometry, v.input_geometry), None, slot.labels, slot.text)
    one = head(model.encoder(v.input_view), slot, model.teacher)
    two = head(model.encoder(v.target_view), swapped, model.teacher)
    assert torch.allclose(out, (one + two) / 2, atol=1e-6) and not torch.allclose(one, two, atol=1e-4)
    with pytest.raises(ValueError, match='does not apply'): Pretrainer(ModelConfig(method='sim_global', symmetric=True))

def test_batch_norm_heads_in_student_and_teacher(shapes):
    cfg, model = build('instance_discrimination', shapes, id_variant='moco')   # the plain MLPs: batch norm by default since the ablation
    bn = lambda m: any(isinstance(x, nn.BatchNorm1d) for x in m.modules())
    assert bn(model.heads['instance_discrimination']) and bn(model.teacher.copies['projector_instance_discrimination'])
    _, plain = build('instance_discrimination', shapes, id_variant='moco', head_norm='layer')
    assert not bn(plain)
    assert torch.isfinite(model(slots_for(cfg, shapes))['loss'])

def test_dino_bottleneck_head(shapes):
    cfg, model = build('global_distillation', shapes, dino_head='bottleneck')
    assert isinstance(model.heads['global_distillation'].predictor.projector, DinoHead)
    loss = model(slots_for(cfg, shapes))['loss']
    loss.backward()
    assert model.heads['global_distillation'].predictor.projector.prototypes.grad.abs().sum() > 0

def test_masked_loss_queries_only_the_hidden_patches(shapes):
    "MAE's decoder design: visible tokens + one query per hidden patch, and nothing else, enter the decoder."
    cfg, model = build('mim_pixel', shapes)
    slots = slots_for(cfg, shapes)
    seen = []
    dec = model.heads['mim_pixel'].predictor
    h = dec.blocks[0].register_forward_pre_hook(lambda m, args: seen.append(args[0].shape[1]))
    model(slots); h.remove()
    n = (cfg.img_size // cfg.patch) ** 2
    assert seen == [n]                      # visible + hidden = every patch once, no query at a visible position
    # and the loss reads only hidden patches: poisoning the target at visible positions changes nothing
    head, slot = model.heads['mim_pixel'], slots['a']
    enc = model.encode(slots)['a']
    base = head(enc, slot).item()
    img = slot.views.target_view.clone()
    vis = (~slot.mask[0]).nonzero()[0].item(); g = cfg.img_size // cfg.patch
    r, c = divmod(vis, g)
    img[0, :, r * cfg.patch:(r + 1) * cfg.patch, c * cfg.patch:(c + 1) * cfg.patch] = 100.0
    poisoned = Slot(Views(slot.views.input_view, img, slot.views.input_geometry, slot.views.target_geometry), slot.mask)
    assert head(enc, poisoned).item() == pytest.approx(base, rel=1e-6)

def test_options_refused_where_no_row_has_them():
    with pytest.raises(ValueError, match=r"negatives='both' does not apply to 'mim_feature'.*dense_instance_discrimination"):
        make_config('mim_feature', 'toy', {'negatives': 'both'})
    with pytest.raises(ValueError, match="loss_on='masked' needs a masked same-view row with a dense target"):
        Pretrainer(ModelConfig(method='sim_feature', loss_on='masked'))

def test_instance_norm_target_standardises_each_channel_over_tokens(shapes):
    cfg, model = build('sim_feature', shapes)                          # the default since the ablation
    slot = slots_for(cfg, shapes)['a']
    t = model.heads['sim_feature'].target_representation(slot, model.teacher)
    assert torch.allclose(t.mean(1), torch.zeros_like(t.mean(1)), atol=1e-4)
    cfg0, model0 = build('sim_feature', shapes, target_norm='layer')
    t0 = model0.heads['sim_feature'].target_representation(slot, model0.teacher)
    assert torch.allclose(t0.mean(-1), torch.zeros_like(t0.mean(-1)), atol=1e-4) and t0.mean(1).abs().max() > 0.05   # per token instead
    with pytest.raises(ValueError, match="target_norm='group'; choose one of"):
        build('sim_feature', shapes, target_norm='group')[1](slots_for(cfg, shapes))

def test_row_scoped_options_reach_only_their_row():
    from m3i_ref.train import model_config
    cfg = make_config('m3i', 'toy', {'semantic': 'both', 'clip.tau': '0.05', 'classification.tau': '0.5'})
    model = Pretrainer(model_config(cfg))
    assert model.heads['clip'].likelihood.log_inv_tau.item() == pytest.approx(math.log(1 / 0.05))
    assert cfg.option(ROW['classification'], 'tau') == 0.5 and cfg.option(ROW['clip'], 'tau') == 0.05
    plain = make_config('m3i', 'toy', {'semantic': 'both'})
    assert plain.option(ROW['clip'], 'tau') == 0.07 and plain.option(ROW['classification'], 'tau') == 1.0

def test_bare_option_refused_where_ambiguous_and_scoped_errors_name_the_choices():
    with pytest.raises(ValueError, match=r"tau is ambiguous in 'm3i'.*classification.tau=\.\.\. or clip.tau="):
        make_config('m3i', 'toy', {'semantic': 'both', 'tau': '0.1'})
    assert make_config('m3i', 'toy', {'neg_weight': '0.1'}).neg_weight == 0.1     # same default in both rows: unambiguous
    with pytest.raises(ValueError, match=r"row 'mim_feature' has no option 'bogus'; its options: \['loss_on'"):
        make_config('mim_feature', 'toy', {'mim_feature.bogus': '1'})
    with pytest.raises(ValueError, match="row 'clip' is not part of 'm3i'"):
        make_config('m3i', 'toy', {'clip.tau': '0.1'})
    with pytest.raises(ValueError, match="'m3i' is a recipe, not a row"):
        make_config('m3i', 'toy', {'m3i.tau': '0.1'})
