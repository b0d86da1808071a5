"The scale path: the imagenet-vitb preset (ViT-B/16 at 224 px, its decoders and 12-layer text encoder) runs on CPU."
import math
import pytest
import torch
from m3i_ref.train import make_config, train, load_checkpoint
from m3i_ref.data import make_shapes

@pytest.mark.slow
def test_imagenet_vitb_preset_takes_two_steps_on_cpu(tmp_path, write_image_folder):
    "Two steps of M3I with category and text targets on a 224 px ImageFolder made here: the sizes fit together."
    imgs, caps = write_image_folder(tmp_path, make_shapes(8, size=224, seed=0), per_split=8)
    cfg = make_config('m3i', 'imagenet-vitb', dict(data_root=str(imgs), captions_file=str(caps),
                                                   semantic='both', steps=2, batch_size=2, num_workers=0, eval_knn=False,
                                                   progress=False, log_every=1, out_dir=str(tmp_path / 'run')))
    assert (cfg.vit, cfg.img_size, cfg.patch, cfg.decoder_dim, cfg.text_depth) == ('base', 224, 16, 768, 12)
    s = train(cfg)
    ckpt = load_checkpoint(tmp_path / 'run' / 'checkpoint.pt')
    assert math.isfinite(s['final_loss']) and ckpt['step'] == 2
    terms = ckpt['history'][-1]['terms']
    assert set(terms) == {'mim_feature@a', 'sim_feature@b', 'classification@a', 'classification@b', 'clip@a', 'clip@b'}
    assert ckpt['model']['encoder.patch_embed.weight'].shape == (768, 3, 16, 16)
    (tmp_path / 'run' / 'checkpoint.pt').unlink()                     # about 3 GB: do not keep it in the test folder
