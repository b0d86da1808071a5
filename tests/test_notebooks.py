"Execute every notebook through nbdev (cells flagged notest/slow/gpu/ddp are skipped; IN_TEST shrinks the work)."
from pathlib import Path
import pytest
from nbdev.test import test_nb as run_nb   # the alias keeps pytest from collecting nbdev's function
from nbdev.config import get_config

NBS = sorted((Path(__file__).resolve().parent.parent / 'nbs').glob('[0-9]*.ipynb'))

def test_there_are_notebooks():
    assert len(NBS) >= 10

@pytest.mark.notebook
@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.stem)
def test_notebook(nb, monkeypatch):
    monkeypatch.chdir(nb.parent)
    ok, secs = run_nb(nb, skip_flags=get_config().tst_flags.split())
    assert ok, f'{nb.name} failed'
