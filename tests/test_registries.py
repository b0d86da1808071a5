"Each column of the table is a registry: no code outside them branches on a column value or a method name."
import re
from pathlib import Path
import pytest
import m3i_ref
from m3i_ref.methods import ROWS, ROW, METHODS, ALIASES, Row, ModelConfig, Pretrainer, RowHead, register_row
from m3i_ref.likelihoods import LIKELIHOODS
from m3i_ref.targets import TARGET_ENCODERS, TARGET_REPRS
from m3i_ref.predictors import PREDICTORS
from m3i_ref.views import INPUT_DATA, TARGET_DATA

PACKAGE = Path(m3i_ref.__file__).parent
# a comparison with a string literal (== / !=), a membership test in a literal tuple, or a startswith(literal)
BRANCH = re.compile(r"""(?:==|!=)\s*['"]([^'"]+)['"]|['"]([^'"]+)['"]\s*(?:==|!=)|(?<!for )\b\w+(?:\.\w+)*\s+(?:not\s+)?in\s*\(([^)]*)\)|\.startswith\(['"]([^'"]+)['"]""")

def column_values():
    vals = set(METHODS) | set(ALIASES)
    for r in ROWS: vals |= {r.input_data, r.target_data, r.target_repr, r.target_encoder, r.predictor, r.loss, r.family}
    return vals

def branches(text, names):
    for i, line in enumerate(text.splitlines(), 1):
        code = line.split('#', 1)[0]
        for m in BRANCH.finditer(code):
            lits = [m.group(1), m.group(2), m.group(4)] + (re.findall(r"['\"]([^'\"]+)['\"]", m.group(3)) if m.group(3) else [])
            hit = sorted({x for x in lits if x and x in names})
            if hit: yield i, hit, line.strip()

def test_no_string_branches_on_column_values_or_method_names():
    names, found = column_values(), []
    for f in sorted(PACKAGE.glob('*.py')):
        if f.name == '_modidx.py': continue
        found += [f'{f.name}:{i}: {hit}: {line}' for i, hit, line in branches(f.read_text(), names)]
    assert not found, 'branch on a column value or method name outside the registries:\n' + '\n'.join(found)

def test_the_grep_catches_what_it_is_for():
    "The check above would fail on the code this refactor removed (the test can fail)."
    old = """        if row.target_encoder == 'patchify': self.target = PixelTarget(cfg.patch, cfg.option(row, 'norm_pix'))
        if row.name == 'instance_discrimination': pass
    def poster_target(self): return self.target_data if self.target_data in ('category', 'text') else 'view1'
        lw = 2 if n.startswith('m3i') else 1
        for r in ('classification', 'm3i'): pass"""
    hits = [h for _, h, _ in branches(old, column_values())]
    assert hits == [['patchify'], ['instance_discrimination'], ['category', 'text'], ['m3i']], hits   # iterating a list is data, not a branch

def test_every_column_value_of_every_row_has_a_registry_entry():
    for r in ROWS:
        assert r.target_encoder in TARGET_ENCODERS and r.target_repr in TARGET_REPRS and r.predictor in PREDICTORS, r.name
        assert r.loss in LIKELIHOODS and r.input_data in INPUT_DATA and r.target_data in TARGET_DATA, r.name

@pytest.mark.parametrize('column,value,message', [('predictor', 'mlp head', "unknown predictor 'mlp head'; choose one of ['dense decoder'"),
                                                  ('loss', 'huber', "unknown likelihood 'huber'; choose one of ['mse'"),
                                                  ('target_encoder', 'vq tokenizer', "unknown target encoder 'vq tokenizer'")])
def test_an_unknown_entry_is_a_key_error_naming_the_valid_ones(column, value, message):
    import dataclasses
    bad = dataclasses.replace(ROW['mim_pixel'], name='bad_row', **{column: value})
    with pytest.raises(KeyError, match=re.escape(message)):
        RowHead(bad, ModelConfig(method='mim_pixel'), 64)

def test_a_new_row_is_a_row_and_at_most_one_entry():
    "A 15th row from existing entries only: global distillation with a cosine (BYOL-style) loss instead of DINO's."
    row = Row('toy_row', 'a toy row', 'intra-view', '-', 'view', 'same view', 'global feature', 'stop gradient', 'Gaussian',
              'EMA teacher', 'projector head', 'cosine', {'head_norm': ROW['mim_global'].defaults['head_norm']})
    register_row(row)
    try:
        model = Pretrainer(ModelConfig(method='toy_row'))
        assert model.teacher is not None and 'projector_toy_row' in model.teacher.copies
    finally:
        ROWS.remove(row); del ROW['toy_row']; METHODS.remove('toy_row')
