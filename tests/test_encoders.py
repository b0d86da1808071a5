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
