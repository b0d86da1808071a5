import os, sys
from pathlib import Path
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

@pytest.fixture(scope='session')
def shapes():
    from m3i_ref.data import make_shapes, WordTokenizer
    data = make_shapes(64, seed=0)
    return data, WordTokenizer.from_texts(data.all_captions()), data.mean_std()

@pytest.fixture(autouse=True, scope='session')
def private_cache(tmp_path_factory):
    "Caches (decoded data, kNN floors) go to a folder of this test session, never to the user's ~/.cache."
    old = os.environ.get('M3I_CACHE')
    os.environ['M3I_CACHE'] = str(tmp_path_factory.mktemp('m3i-cache'))
    yield
    if old is None: os.environ.pop('M3I_CACHE', None)
    else: os.environ['M3I_CACHE'] = old

def _write_image_folder(root, data, per_split=24, classes=3):
    "An ImageFolder tree (train/ and val/) of `data`'s first images as PNGs, and a captions file: the ImageNet-style layout."
    from PIL import Image
    for split in ('train', 'val'):
        for c in data.classes[:classes]: (root / 'imgs' / split / c).mkdir(parents=True)
        for i in range(per_split):
            c = data.classes[int(data.labels[i]) % classes]
            Image.fromarray(data.images[i].permute(1, 2, 0).numpy()).save(root / 'imgs' / split / c / f'{i}.png')
    (root / 'caps.tsv').write_text('\n'.join(f'{c}/{i}.png\ta picture of a {c}' for i in range(per_split) for c in data.classes[:classes]))
    return root / 'imgs', root / 'caps.tsv'


@pytest.fixture(scope='session')
def write_image_folder():
    "The ImageNet-style layout writer, for the tests that train from a folder."
    return _write_image_folder

def pytest_collection_modifyitems(config, items):
    """The fast tier (`pytest -m "not slow"`, README): notebook executions and multi-process (DDP) tests count as slow
    too, so one marker selects the day-to-day set; CI runs everything."""
    for item in items:
        if item.get_closest_marker('notebook') or item.get_closest_marker('ddp'): item.add_marker(pytest.mark.slow)
