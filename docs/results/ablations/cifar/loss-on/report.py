"""The loss-on probe's page: writes loss-on.md and loss-on.json beside this file (or into the folder given as the first argument)
from runs/ and the CIFAR-10 benchmark's runs of the same seeds; the probe and its prose are SPECS['loss-on'] in ../lever.py.
Usage: python docs/results/ablations/cifar/loss-on/report.py [OUT_DIR]"""
import pathlib, runpy, sys
runpy.run_path(str(pathlib.Path(__file__).resolve().parents[1] / 'lever.py'))['report']('loss-on', sys.argv[1] if len(sys.argv) > 1 else None)
