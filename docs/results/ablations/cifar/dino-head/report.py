"""The dino-head probe's page: writes dino-head.md and dino-head.json beside this file (or into the folder given as the first argument)
from runs/ and the CIFAR-10 benchmark's runs of the same seeds; the probe and its prose are SPECS['dino-head'] in ../lever.py.
Usage: python docs/results/ablations/cifar/dino-head/report.py [OUT_DIR]"""
import pathlib, runpy, sys
runpy.run_path(str(pathlib.Path(__file__).resolve().parents[1] / 'lever.py'))['report']('dino-head', sys.argv[1] if len(sys.argv) > 1 else None)
