"""Numbers in prose checked against the JSON they come from: the README's example line of the main job, and the
generated readings of the toy pages, regenerated from their run files and compared byte for byte."""
import re, subprocess, sys
from pathlib import Path
import pytest
from m3i_ref.bench import read_runs

ROOT = Path(__file__).resolve().parent.parent

def test_readme_main_job_line_is_the_toy_benchmarks_m3i_run():
    "The README's `m3i: kNN ...` example is the toy page's M3I run and floors (the main job is that same run)."
    line = re.search(r'^m3i: kNN ([\d.]+) \(raw pixels ([\d.]+), random init ([\d.]+), chance ([\d.]+)\)$', (ROOT / 'README.md').read_text(), re.M)
    assert line, 'the README lost its example score line'
    runs = read_runs(ROOT / 'docs/results/shapes/64k/seed0')
    want = [runs[r]['knn_top1'] for r in ('m3i', 'raw_pixels', 'random_init', 'chance')]
    assert [float(x) for x in line.groups()] == [round(w, 1) for w in want]

@pytest.mark.parametrize('script,files', [('docs/results/shapes/64k/seed0/reading.py', ['reading.md', 'reading.json']),
                                          ('docs/results/shapes/design/report.py', ['design.md', 'design.json']),
                                          ('docs/results/shapes/pipelines/reading.py', ['reading.md'])])
def test_generated_readings_match_their_run_files(script, files, tmp_path):
    subprocess.run([sys.executable, str(ROOT / script), str(tmp_path)], check=True, cwd=ROOT)
    for f in files:
        assert (tmp_path / f).read_text() == (ROOT / script).parent.joinpath(f).read_text(), f'{script}: {f} is stale; rerun the script'
