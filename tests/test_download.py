"""`--download` (issue 28) against a local HTTP server on 127.0.0.1 that serves a small archive in the official CIFAR-10
layout; torchvision's downloader is pointed at it (its URL and checksums), so the test runs offline."""
import hashlib, http.server, io, pickle, socket, tarfile, threading
from functools import partial
import numpy as np
import pytest
import torch
import torchvision
from m3i_ref.data import load_cifar, download_cifar
from m3i_ref.cli import main

CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']

def official_archive(per_batch=20, seed=0):
    "A cifar-10-python.tar.gz of the official layout (five training batches, a test batch, batches.meta), small."
    rng = np.random.default_rng(seed)
    files, images = {}, {}
    for name in [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        files[name] = pickle.dumps({'batch_label': name, 'labels': labels, 'data': data, 'filenames': [f'{i}.png' for i in range(per_batch)]})
        images[name] = (data, labels)
    files['batches.meta'] = pickle.dumps({'label_names': CLASSES, 'num_cases_per_batch': per_batch, 'num_vis': 3072})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as tar:
        for name, blob in files.items():
            info = tarfile.TarInfo(f'cifar-10-batches-py/{name}'); info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    md5 = lambda b: hashlib.md5(b).hexdigest()
    return buf.getvalue(), {k: md5(v) for k, v in files.items()}, images

class Server:
    "Serves `files` ({path: bytes}) on 127.0.0.1 and counts the requests; any other path is a 404."
    def __init__(self, files):
        self.files, self.requests = files, []
        outer = self
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                body = outer.files.get(self.path)
                if body is None: self.send_error(404); return
                self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
                self.wfile.write(body)
            def log_message(self, *a): pass
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
    def close(self): self.httpd.shutdown(); self.httpd.server_close()

@pytest.fixture
def cifar_server(monkeypatch):
    "The archive served locally, and torchvision's CIFAR10 pointed at it (URL and the archive's and files' checksums)."
    archive, md5s, images = official_archive()
    server = Server({'/cifar-10-python.tar.gz': archive})
    C = torchvision.datasets.CIFAR10
    monkeypatch.setattr(C, 'url', server.url + '/cifar-10-python.tar.gz')
    monkeypatch.setattr(C, 'tgz_md5', hashlib.md5(archive).hexdigest())
    monkeypatch.setattr(C, 'train_list', [[f'data_batch_{i}', md5s[f'data_batch_{i}']] for i in range(1, 6)])
    monkeypatch.setattr(C, 'test_list', [['test_batch', md5s['test_batch']]])
    monkeypatch.setattr(C, 'meta', {**C.meta, 'md5': md5s['batches.meta']})
    for var in ('http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'): monkeypatch.delenv(var, raising=False)
    yield server, images
    server.close()

def test_download_fetches_the_official_files_and_they_load(cifar_server, tmp_path):
    server, images = cifar_server
    with pytest.raises(FileNotFoundError, match='add --download'): load_cifar('cifar10', 'train', root=tmp_path)
    assert server.requests == []                                    # off by default: nothing was fetched
    data = load_cifar('cifar10', 'test', root=tmp_path, download=True)
    fetched = len(server.requests)                                  # torchvision asks twice: a redirect probe, then the file
    assert fetched >= 1 and set(server.requests) == {'/cifar-10-python.tar.gz'}
    assert (tmp_path / 'cifar-10-batches-py' / 'data_batch_5').exists() and data.classes == CLASSES
    want, labels = images['test_batch']
    assert torch.equal(data.images, torch.from_numpy(want.reshape(-1, 3, 32, 32))) and data.labels.tolist() == labels
    load_cifar('cifar10', 'train', root=tmp_path, download=True)   # already there and intact: not fetched again
    assert len(server.requests) == fetched

def test_train_download_flag(cifar_server, tmp_path, capsys):
    "The command line: `--download` on train fetches into --data-root, then the run trains on those images."
    server, _ = cifar_server
    rc = main(['train', '--method', 'mim_pixel', '--preset', 'toy', '--download', '--data-root', str(tmp_path / 'data'),
          '--out-dir', str(tmp_path / 'run'), '--set', 'dataset=cifar10', '--set', 'steps=2', '--set', 'batch_size=16', '--set', 'train_size=64', '--set', 'test_size=16',
          '--set', 'eval_knn=false', '--set', 'progress=false'])
    assert rc == 0, capsys.readouterr().err
    assert set(server.requests) == {'/cifar-10-python.tar.gz'} and (tmp_path / 'run' / 'checkpoint.pt').exists()
    assert (tmp_path / 'data' / 'cifar-10-batches-py' / 'test_batch').exists()

def test_no_network_is_a_clear_error(cifar_server, monkeypatch, tmp_path):
    with socket.socket() as s:                                      # a port on this machine that nothing listens on
        s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    url = f'http://127.0.0.1:{port}/cifar-10-python.tar.gz'
    monkeypatch.setattr(torchvision.datasets.CIFAR10, 'url', url)
    with pytest.raises(ValueError, match='cannot download cifar10') as e: download_cifar('cifar10', tmp_path)
    assert url in str(e.value) and 'cifar-10-python.tar.gz' in str(e.value) and str(tmp_path) in str(e.value)

def test_a_damaged_download_is_refused(cifar_server, tmp_path):
    server, _ = cifar_server
    server.files['/cifar-10-python.tar.gz'] = server.files['/cifar-10-python.tar.gz'][:-100]   # cut short
    with pytest.raises(ValueError, match='cannot download cifar10'): download_cifar('cifar10', tmp_path)

def test_download_is_refused_for_data_that_is_not_downloaded(tmp_path, capsys):
    assert main(['train', '--preset', 'toy', '--download', '--out-dir', str(tmp_path), '--set', 'steps=1']) == 2
    assert "dataset='shapes' is not downloaded" in capsys.readouterr().err and not (tmp_path / 'checkpoint.pt').exists()
    with pytest.raises(ValueError, match="choose one of \\['cifar10', 'cifar100'\\]"): download_cifar('imagenet', tmp_path)
