"""The compose-a-row explorer (nbs/07a_explorer), driven without a browser: set the dropdowns, press the button."""
import pytest
from m3i_ref.explorer import compose_row, check_row, matching_rows, describe, registered, explore, COLUMNS, rule_breaks
from m3i_ref.methods import ROW, ROWS, METHODS, ROW_OPTIONS

def test_every_published_row_is_composed_back_and_runs():
    for r in ROWS:
        row = compose_row(**{k: getattr(r, k) for k in COLUMNS})
        assert [m.name for m in matching_rows(row)] == [r.name] and r.title in describe(row)
        assert not rule_breaks({k: getattr(r, k) for k in COLUMNS}), r.name

def test_a_contradiction_is_refused_with_its_reason():
    with pytest.raises(ValueError, match="the target encoder 'patchify' reads 'other view' or 'same view'.*not 'category'"):
        check_row(compose_row(target_data='category'))
    with pytest.raises(ValueError, match="predictor='decoder' is not in the predictor f_psi column"):
        compose_row(predictor='decoder')

def test_registering_a_composed_row_leaves_the_table_as_it_was():
    before = (list(ROWS), dict(ROW), list(METHODS), list(ROW_OPTIONS))
    row = compose_row('masked view', 'other view', 'EMA teacher', 'global feature', 'projector head', 'cosine')
    with registered(row) as name:
        assert name in ROW and name in METHODS
    assert (list(ROWS), dict(ROW), list(METHODS), list(ROW_OPTIONS)) == before

def test_the_explorer_trains_what_the_dropdowns_say(tmp_path):
    pytest.importorskip('ipywidgets')
    from m3i_ref.explorer import Explorer
    ex = Explorer(steps=10, out_dir=tmp_path / 'explorer')
    ex.dropdowns['target_data'].value = 'text'                           # contradicts the patchify encoder
    assert ex.run_button.disabled and "not 'text'" in ex.status.value and ex.run() is None
    for k, v in dict(input_data='view', target_data='other view', target_encoder='EMA teacher', target_repr='global feature',
                     predictor='projector head', loss='cosine').items(): ex.dropdowns[k].value = v
    assert not ex.run_button.disabled and "Instance Discrimination with id_variant='byol'" in ex.status.value   # BYOL
    ex.dropdowns['input_data'].value = 'masked view'                     # a masked BYOL: no row has it
    assert 'not explored before' in ex.status.value
    ex.run_button.click()
    assert ex.result['steps'] == 10 and ex.result['knn_top1'] is not None and set(ex.result['floors']) == {'raw_pixels', 'random_init', 'chance'}
    assert len(ex.result['history']) >= 2 and 'composed' not in ROW
