"The encoder seam: every row and M3I run on the convolutional backbone through the same contract."
import pytest
import torch
from m3i_ref.methods import METHODS, ModelConfig, Pretrainer, make_slots
from m3i_ref.convnet import ConvNet, make_encoder
from m3i_ref.vit import ViT

@pytest.mark.parametrize('method', METHODS)
def test_every_run_trains_on_the_convnet(method, shapes):
    data, tok, (mean, std) = shapes
    cfg = ModelConfig(method=method, encoder='convnet', num_classes=data.num_classes, vocab_size=len(tok))
    torch.manual_seed(0)
    model = Pretrainer(cfg)
    assert isinstance(model.encoder, ConvNet)
    slots = make_slots(cfg, data.batch(torch.arange(8)), mean, std, torch.Generator().manual_seed(0), tok)
    before = model.encoder.patch_embed.weight.detach().clone()
    out = model(slots)
    assert torch.isfinite(out['loss'])
    out['loss'].backward()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    assert not torch.equal(before, model.encoder.patch_embed.weight), 'the loss must reach the encoder'

def test_registry_names_its_choices():
    assert isinstance(make_encoder('vit', 'toy'), ViT)
    with pytest.raises(KeyError, match=r"unknown encoder 'resnet'; choose one of \['vit', 'convnet'\]"): make_encoder('resnet')

@pytest.mark.parametrize('encoder', ['vit', 'convnet'])
def test_both_encoders_take_a_smaller_image(encoder):
    "DINO's local crops: a 16 px image on an encoder built for 32 px gives the tokens of a 4x4 grid (patch 4), positions 0..15."
    enc = make_encoder(encoder, 'toy', img_size=32, patch=4).eval()
    out = enc(torch.randn(2, 3, 16, 16))
    assert out.dense.shape == (2, 16, enc.dim) and torch.equal(out.positions, torch.arange(16).expand(2, -1))
    kept = enc(torch.randn(2, 3, 16, 16), keep=torch.tensor([[0, 5, 15], [1, 2, 3]]))
    assert kept.dense.shape == (2, 3, enc.dim)

def test_the_vit_gives_a_smaller_image_the_sincos_positions_of_its_grid():
    from m3i_ref.views import abs_pos_embed
    enc = ViT.from_size('toy', img_size=32, patch=8)
    assert torch.equal(enc.patch_positions(torch.zeros(1, 3, 32, 32)), enc.pos_embed[:, 1:])
    assert torch.allclose(enc.patch_positions(torch.zeros(1, 3, 16, 16))[0], abs_pos_embed(2, enc.dim))
    with pytest.raises(ValueError, match='multiple of the patch'): enc(torch.zeros(1, 3, 20, 20))

def test_dino_with_local_crops_trains_on_the_convnet(shapes):
    data, tok, (mean, std) = shapes
    cfg = ModelConfig(method='instance_discrimination', id_variant='dino', local_crops=2, encoder='convnet', num_classes=data.num_classes, vocab_size=len(tok))
    torch.manual_seed(0)
    model = Pretrainer(cfg)
    slots = make_slots(cfg, data.batch(torch.arange(8)), mean, std, torch.Generator().manual_seed(0), tok)
    assert [v.shape[-1] for v in slots['a'].local_views] == [12, 12]       # 96/224 of 32 px at patch 4: 3 patches
    out = model(slots)
    assert torch.isfinite(out['loss'])
    out['loss'].backward()
    assert model.encoder.patch_embed.weight.grad.abs().sum() > 0
