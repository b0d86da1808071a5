import math
import torch
import pytest
from m3i_ref.views import (ViewGeometry, ViewConfig, sample_geometry, crop_views, relative_patch_positions, relative_pos_embed,
                           abs_pos_embed, brute_force_positions, block_mask, random_mask, visible_indices, masked_indices,
                           mosaic, split_tokens, merge_tokens, patchify, unpatchify, make_views, color_jitter, sample_jitter)

def test_identity_geometry_gives_absolute_embedding():
    for grid, dim in [(4, 32), (8, 64), (14, 96)]:
        pos, logs = relative_patch_positions(ViewGeometry.identity(3), ViewGeometry.identity(3), grid)
        rel = relative_pos_embed(pos, logs, dim)
        assert rel.shape == (3, grid * grid, 2 * dim)
        torch.testing.assert_close(rel[1, :, :dim], abs_pos_embed(grid, dim), atol=1e-5, rtol=0)
        assert torch.allclose(rel[..., dim:dim + dim // 4], torch.zeros(1))           # sin(0)

@pytest.mark.parametrize('seed', [0, 1, 2])
def test_crop_and_flip_agree_with_brute_force(seed):
    g = torch.Generator().manual_seed(seed)
    gi, gt = sample_geometry(12, ViewConfig(scale=(.3, 1)), g), sample_geometry(12, ViewConfig(scale=(.3, 1)), g)
    gi.flip[:4], gt.flip[:4] = torch.tensor([1, 1, 0, 0]).bool(), torch.tensor([1, 0, 1, 0]).bool()
    gi, gt = ViewGeometry(gi.boxes.double(), gi.flip), ViewGeometry(gt.boxes.double(), gt.flip)
    closed, _ = relative_patch_positions(gi, gt, 4)
    brute = brute_force_positions(gi, gt, 4)
    inside = ((closed > -.5) & (closed < 3.5)).all(-1)
    assert inside.sum() > 10
    assert (closed - brute).abs()[inside].max() < 0.05

def test_flip_mirrors_positions():
    gi = ViewGeometry.identity(1)
    gt = ViewGeometry(torch.tensor([[0., 0., 1., 1.]]), torch.tensor([True]))
    pos, _ = relative_patch_positions(gi, gt, 4)
    torch.testing.assert_close(pos[0, :, 1].view(4, 4), torch.arange(3., -1., -1.).expand(4, 4))

def test_crop_identity_and_flip():
    x = torch.rand(2, 3, 16, 16)
    torch.testing.assert_close(crop_views(x, ViewGeometry.identity(2), 16), x, atol=1e-5, rtol=0)
    flip = ViewGeometry(ViewGeometry.identity(2).boxes, torch.tensor([True, False]))
    out = crop_views(x, flip, 16)
    torch.testing.assert_close(out[0], x[0].flip(-1), atol=1e-5, rtol=0)
    torch.testing.assert_close(out[1], x[1], atol=1e-5, rtol=0)

def test_crop_takes_the_box():
    x = torch.zeros(1, 1, 8, 8); x[..., :4, 4:] = 1.0        # top-right quadrant is white
    box = ViewGeometry(torch.tensor([[0., .5, .5, .5]]), torch.tensor([False]))
    assert crop_views(x, box, 4).min() > 0.99

def test_geometry_sampling_ranges():
    geo = sample_geometry(1000, ViewConfig(scale=(.2, .6)), torch.Generator().manual_seed(0))
    t, l, h, w = geo.boxes.unbind(1)
    assert (t >= 0).all() and (l >= 0).all() and (t + h <= 1 + 1e-6).all() and (l + w <= 1 + 1e-6).all()
    area = h * w
    assert area.min() > .19 and area.max() < .61
    assert 0.4 < geo.flip.float().mean() < 0.6

def test_jitter_keeps_range_and_grey():
    x = torch.rand(16, 3, 8, 8)
    j = sample_jitter(16, ViewConfig(jitter_p=1, gray_p=1), torch.Generator().manual_seed(0))
    y = color_jitter(x, j)
    assert y.min() >= 0 and y.max() <= 1
    assert torch.allclose(y[:, 0], y[:, 1]) and torch.allclose(y[:, 1], y[:, 2])

def test_block_mask_exact_count_and_blocks():
    g = torch.Generator().manual_seed(0)
    for grid, k in [(4, 10), (8, 38), (14, 118)]:
        m = block_mask(32, grid, k, g)
        assert (m.sum(1) == k).all()
    m = block_mask(200, 8, 20, g).view(200, 8, 8).float()
    # blocks: a masked patch has more masked neighbours than under uniform random masking
    def neighbours(m):
        pad = torch.nn.functional.pad(m, (1, 1, 1, 1))
        n = pad[:, :-2, 1:-1] + pad[:, 2:, 1:-1] + pad[:, 1:-1, :-2] + pad[:, 1:-1, 2:]
        return (n * m).sum() / m.sum()
    r = random_mask(200, 64, 20, g).view(200, 8, 8).float()
    assert neighbours(m) > neighbours(r) + 0.5
    with pytest.raises(ValueError, match='num_masked=70 must be in'): block_mask(2, 8, 70)

def test_visible_and_masked_indices_partition():
    m = random_mask(5, 16, 6, torch.Generator().manual_seed(0))
    v, k = visible_indices(m), masked_indices(m)
    assert v.shape == (5, 10) and k.shape == (5, 6)
    assert torch.equal(torch.cat([v, k], 1).sort(1).values, torch.arange(16).expand(5, 16))
    assert not m.gather(1, v).any() and m.gather(1, k).all()

def test_mosaic_split_merge_inverse():
    a, b = torch.rand(3, 3, 16, 16), torch.rand(3, 3, 16, 16)
    m = block_mask(3, 4, 7, torch.Generator().manual_seed(1))
    mixed = mosaic(a, b, m, 4)
    ta, pa, tb, pb = split_tokens(patchify(mixed, 4), m)
    assert torch.equal(ta, patchify(a, 4).gather(1, pa[..., None].expand(-1, -1, 48)))
    assert torch.equal(tb, patchify(b, 4).gather(1, pb[..., None].expand(-1, -1, 48)))
    assert torch.equal(unpatchify(merge_tokens(ta, tb, m), 4), mixed)

def test_make_views_same_and_other():
    imgs = (torch.rand(4, 3, 16, 16) * 255).to(torch.uint8)
    mean, std = torch.full((3,), .5), torch.full((3,), .25)
    same = make_views(imgs, 16, mean, std, True, generator=torch.Generator().manual_seed(0))
    assert same.target_view is same.input_view
    other = make_views(imgs, 16, mean, std, False, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(other.input_view, other.target_view)
    again = make_views(imgs, 16, mean, std, False, generator=torch.Generator().manual_seed(0))
    assert torch.equal(other.target_view, again.target_view)
