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
