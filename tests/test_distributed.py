"Two gloo processes must give the loss and gradients of one process on the concatenated batch (float64, tolerance 1e-6)."
import json, os, subprocess, sys
from pathlib import Path
import pytest
import torch
import torch.multiprocessing as mp

HERE = Path(__file__).resolve().parent
GLOBAL_BATCH = 8

def _double_slots(slots):
    from m3i_ref.views import Views
    for s in slots.values():
        if s.views is not None:
            v = s.views
            s.views = Views(v.input_view.double(), v.target_view.double(), v.input_geometry, v.target_geometry)
        if s.local_views is not None: s.local_views = [x.double() for x in s.local_views]
        if s.soft_labels is not None: s.soft_labels = s.soft_labels.double()
    return slots

def loss_and_grads(method, rank=0, world=1, ddp=False):
    "Loss (averaged over processes) and parameter gradients for this process's slice of a fixed global batch."
    from m3i_ref.methods import ModelConfig, Pretrainer, make_slots
    from m3i_ref.data import make_shapes, WordTokenizer
    from m3i_ref.distributed import all_reduce_mean
    data = make_shapes(GLOBAL_BATCH, seed=0)
    tok = WordTokenizer.from_texts(data.all_captions())
    mean, std = data.mean_std()
    name, *options = method.split('+')                 # 'row+key=value': a row option (strings only)
    cfg = ModelConfig(method=name, num_classes=data.num_classes, vocab_size=len(tok), **dict(o.split('=') for o in options))
    torch.manual_seed(0)
    model = Pretrainer(cfg).double()
    b = GLOBAL_BATCH // world
    batch = data.batch(torch.arange(rank * b, (rank + 1) * b))
    slots = _double_slots(make_slots(cfg, batch, mean, std, torch.Generator().manual_seed(1), tok, rank=rank, world_size=world))
    net = torch.nn.parallel.DistributedDataParallel(model) if ddp else model
    out = net(slots)
    out['loss'].backward()
    loss = all_reduce_mean(out['loss'].detach())
    grads = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
    grads.update({k: b.clone() for k, b in model.named_buffers() if k.endswith('likelihood.center')})   # DINO's centre: global-batch mean
    return loss.item(), grads

@pytest.mark.ddp
@pytest.mark.parametrize('method', ['instance_discrimination', 'instance_discrimination+id_variant=moco', 'instance_discrimination+id_variant=moco+head_norm=layer',
                                    'instance_discrimination+id_variant=dino', 'instance_discrimination+id_variant=dino+local_crops=2',
                                    'sim_global+id_variant=msn', 'instance_discrimination+id_variant=byol', 'instance_discrimination+id_variant=barlow',
                                    'clip', 'clip+clip_negatives=other_classes', 'sim_feature', 'm3i'])
def test_two_gloo_processes_match_one_process(method, tmp_path):
    single_loss, single_grads = loss_and_grads(method)
    sys.path.insert(0, str(HERE))
    from _ddp_worker import run
    out = tmp_path / 'res'
    mp.start_processes(run, args=(2, method, str(out), str(tmp_path / 'init')), nprocs=2, start_method='spawn')
    for r in range(2):
        res = torch.load(f'{out}.{r}')
        assert abs(res['loss'] - single_loss) < 1e-6, (method, res['loss'], single_loss)
        assert set(res['grads']) == set(single_grads)
        for k, g in single_grads.items():
            torch.testing.assert_close(res['grads'][k], g, atol=1e-6, rtol=0, msg=f'{method}: gradient of {k}')

@pytest.mark.ddp
def test_torchrun_training_matches_one_process(tmp_path):
    "The whole loop under torchrun (2 gloo processes) logs the same losses as one process on the same global batches."
    common = ['--method', 'sim_global', '--preset', 'toy', '--set', 'steps=4', '--set', 'train_size=64', '--set', 'test_size=32',
              '--set', 'log_every=1', '--set', 'progress=false', '--set', 'batch_size=16', '--set', 'eval_knn=false']
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(HERE.parent))
    script = str(Path(sys.executable).parent / 'm3i-ref')          # the console script install.sh puts in .venv/bin
    one = subprocess.run([sys.executable, script, 'train', *common, '--out-dir', str(tmp_path / 'one')],
                         env=env, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', script,
                          'train', *common, '--out-dir', str(tmp_path / 'two')], env=env, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr
    h1 = torch.load(tmp_path / 'one' / 'checkpoint.pt', weights_only=False)['history']
    h2 = torch.load(tmp_path / 'two' / 'checkpoint.pt', weights_only=False)['history']
    assert [h['step'] for h in h1] == [h['step'] for h in h2] == [1, 2, 3, 4]
    for a, b in zip(h1, h2): assert abs(a['loss'] - b['loss']) < 1e-4, (a['loss'], b['loss'])

def test_single_process_needs_no_process_group():
    import torch.distributed as dist
    loss, grads = loss_and_grads('instance_discrimination')
    assert not (dist.is_available() and dist.is_initialized()) and grads
