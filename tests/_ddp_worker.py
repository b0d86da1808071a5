"Worker for test_distributed: one gloo process computing loss and gradients on its slice of the global batch."
import os, sys, torch
import torch.distributed as dist

def run(rank, world, method, out_path, init_file):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank, world_size=world)
    from test_distributed import loss_and_grads
    loss, grads = loss_and_grads(method, rank, world, ddp=True)
    torch.save(dict(loss=loss, grads=grads), f'{out_path}.{rank}')
    dist.destroy_process_group()
