"""The toy shapes' designs: the calm design is the old generator byte for byte, bad designs are refused by name, and a
short self-supervised run on the default design beats its raw-pixel floor, on the test draw and on a held-out draw."""
import hashlib
import pytest
import torch
from m3i_ref.data import make_shapes, shape_nuisances, SHAPE_NUISANCES, SHAPES_DEFAULT, load_dataset, SHAPES_SPLIT_SEEDS
from m3i_ref.train import make_config, train, load_checkpoint, model_from_checkpoint, load_data
from m3i_ref.evaluate import extract_features, raw_pixel_features, linear_probe

def test_calm_design_is_the_previous_generator_byte_for_byte():
    "Hashes recorded from the generator before the designs existed (commit 9eea05d), 200 images at seed 7."
    d = make_shapes(200, seed=7, design='calm')
    assert hashlib.sha1(d.images.numpy().tobytes()).hexdigest() == '08efb37e641325d12e9ed3eaf1f6abbcd3504e34'
    assert hashlib.sha1('\n'.join(d.captions).encode()).hexdigest() == 'd9927d870aefa791e3c9ab353ab38d46bdc3f709'

def test_each_nuisance_changes_the_images_and_keeps_the_labels():
    calm = make_shapes(32, seed=1, design='calm')
    for n in SHAPE_NUISANCES:
        d = make_shapes(32, seed=1, design=n)
        assert torch.equal(d.labels, calm.labels), n
        assert (d.images.float() - calm.images.float()).abs().mean() > 2, f'{n} left the images as they were'
    assert torch.equal(make_shapes(32, seed=1, design='rotation+scale').images, make_shapes(32, seed=1, design='scale+rotation').images)

@pytest.mark.parametrize('bad', ['stormy', 'scale+size', '+', ''])
def test_bad_designs_are_refused_naming_the_choices(bad):
    with pytest.raises(ValueError, match=r"choose a design \['calm', 'wild'\] or nuisances joined by \+ from \['position'"):
        shape_nuisances(bad)
    with pytest.raises(ValueError, match='choose a design'):
        make_config('m3i', 'toy', {'shapes': bad or '+'})

def test_splits_are_three_draws_of_one_design():
    imgs = {s: load_dataset('shapes', s, n=16).images for s in SHAPES_SPLIT_SEEDS}
    assert not torch.equal(imgs['test'], imgs['heldout']) and not torch.equal(imgs['train'], imgs['heldout'])
    assert torch.equal(imgs['heldout'], make_shapes(16, seed=SHAPES_SPLIT_SEEDS['heldout'], design=SHAPES_DEFAULT).images)

@pytest.fixture(scope='module')
def short_ssl_run(tmp_path_factory):
    "Instance discrimination as `m3i-ref train --preset toy` runs it (1,000 steps, 4,096 images of the default design; about 30 s)."
    cfg = make_config('instance_discrimination', 'toy', dict(eval_knn=False, progress=False, out_dir=str(tmp_path_factory.mktemp('id'))))
    train_data, test_data = load_data(cfg)
    train(cfg, data=(train_data, test_data))
    model, _ = model_from_checkpoint(load_checkpoint(cfg.out_dir + '/checkpoint.pt'))
    heldout = load_dataset('shapes', 'heldout', n=cfg.test_size, seed=cfg.seed, shapes=cfg.shapes)
    return model.encoder, train_data, test_data, heldout

@pytest.mark.slow
@pytest.mark.parametrize('split', ['test', 'heldout'])
def test_a_short_self_supervised_run_beats_the_raw_pixel_floor(short_ssl_run, split):
    """The toy's promise, as a property that can fail: pre-trained without labels, the encoder's features separate the
    classes better than the pixels themselves under the same linear probe, on the draw the design was chosen on and on one
    nothing was chosen on (the kNN gap is not asserted: on this data the rows tie the lookup there, see toy-design)."""
    encoder, train_data, test_data, heldout = short_ssl_run
    evald = test_data if split == 'test' else heldout
    mean, std = train_data.mean_std()
    (ftr, ltr), (fte, lte) = extract_features(encoder, train_data, mean, std), extract_features(encoder, evald, mean, std)
    (rtr, _), (rte, _) = raw_pixel_features(train_data), raw_pixel_features(evald)
    ssl, raw = linear_probe(ftr, ltr, fte, lte, 6, epochs=30), linear_probe(rtr, ltr, rte, lte, 6, epochs=30)
    assert ssl > raw + 5, f'{split}: instance discrimination linear {ssl:.1f} vs raw pixels {raw:.1f}'
