"""Write docs/results/index.md: every page under docs/results with its question, command, dates, seeds and a headline
computed from its JSON (`m3i_ref.bench.results_index`). Usage: python docs/results/index.py [OUT]"""
import pathlib, sys
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from m3i_ref.bench import results_index
here = pathlib.Path(__file__).parent
results_index(here, pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here / 'index.md')
