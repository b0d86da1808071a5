"""Which short fine-tuning protocol tells toy encoders apart? Fine-tunes a few encoders (the random init and the stages of
a toy pipeline run) under learning rates 1e-4 to 1e-3 (5e-4 is the `finetune` default) and 3 or 10 epochs. Usage: python docs/results/shapes-calm/pipelines/finetune_check.py RUN_FOLDER [RUN_FOLDER ...]
(folders written by `m3i-ref pipeline NAME --preset toy`); prints a table and writes finetune_check.json beside this file."""
import json, sys, time
from pathlib import Path
import torch
from m3i_ref.train import make_config, load_data, load_checkpoint, model_from_checkpoint
from m3i_ref.convnet import make_encoder
from m3i_ref.evaluate import finetune

cfg = make_config('classification', 'toy')
train_data, test_data = load_data(cfg)
mean, std = train_data.mean_std()
torch.manual_seed(cfg.seed)
encoders = {'random init': make_encoder(cfg.encoder, cfg.vit, cfg.img_size, cfg.patch)}
for folder in sys.argv[1:]:
    for stage in sorted(Path(folder).glob('stage*')):
        encoders[f'{Path(folder).name}/{stage.name}'] = model_from_checkpoint(load_checkpoint(stage / 'checkpoint.pt'))[0].encoder
protocols = {'lr 5e-4, 3 epochs (finetune default)': dict(lr=5e-4, epochs=3), 'lr 1e-4, 3 epochs': dict(lr=1e-4, epochs=3),
             'lr 1e-3, 3 epochs': dict(lr=1e-3, epochs=3), 'lr 5e-4, 10 epochs': dict(lr=5e-4, epochs=10), 'lr 1e-3, 10 epochs': dict(lr=1e-3, epochs=10)}
rows = {}
print('| encoder | ' + ' | '.join(protocols) + ' |'); print('|---|' + '---|' * len(protocols))
for name, enc in encoders.items():
    rows[name] = {p: finetune(enc, train_data, test_data, mean, std, **kw) for p, kw in protocols.items()}
    print(f'| {name} | ' + ' | '.join(f'{v:.1f}' for v in rows[name].values()) + ' |', flush=True)
Path(__file__).with_name('finetune_check.json').write_text(json.dumps(dict(command='python ' + ' '.join(sys.argv), rows=rows), indent=1) + '\n')
