"""Decoding speed of the CIFAR-10 JPEG copy: Pillow one file at a time (what `m3i_ref.data.read_image` does since
torchvision's image decoding is deprecated) against torchvision's batched `decode_jpeg` (what the project used before).
Usage: python docs/results/speed/decode_speed.py DATA_ROOT   (reads DATA_ROOT/cifar10-jpeg/test; writes docs/results/decode-speed.{md,json})"""
import json, sys, time, platform, warnings, datetime
from pathlib import Path
import torch
from m3i_ref.data import folder_files, read_image

def main(root):
    folder = Path(root) / 'cifar10-jpeg' / 'test'
    files, _, _ = folder_files(folder)
    res = {}
    t = time.perf_counter(); pil = torch.stack([read_image(f) for f in files]); res['pillow (read_image)'] = time.perf_counter() - t
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        from torchvision.io import decode_jpeg, read_file, ImageReadMode
        t = time.perf_counter()
        tv = []
        for s in range(0, len(files), 2048): tv += decode_jpeg([read_file(str(f)) for f in files[s:s + 2048]], mode=ImageReadMode.RGB)
        tv = torch.stack(tv); res['torchvision decode_jpeg (batched)'] = time.perf_counter() - t
    diff = (pil.int() - tv.int()).abs()
    out = dict(images=len(files), seconds=res, images_per_s={k: len(files) / v for k, v in res.items()},
               max_abs_pixel_difference=int(diff.max()), mean_abs_pixel_difference=float(diff.float().mean()),
               command='python docs/results/speed/decode_speed.py ' + str(root), machine=dict(python=platform.python_version(), torch=torch.__version__,
               threads=torch.get_num_threads()), date=datetime.date.today().isoformat())
    lines = ['# Decoding the CIFAR-10 JPEG copy (10,000 test images)', '', f"Command: `{out['command']}`. Date {out['date']}. {out['machine']}.", '',
             '| decoder | seconds | images/s |', '|---|---|---|'] + [f'| {k} | {v:.2f} | {len(files) / v:,.0f} |' for k, v in res.items()]
    lines += ['', f"Largest pixel difference between the two: {out['max_abs_pixel_difference']} (mean {out['mean_abs_pixel_difference']:.3f})"
              + (': the same pixels.' if out['max_abs_pixel_difference'] == 0 else ': JPEG decoders may round the inverse DCT differently.'), '',
              f"Pillow is {res['pillow (read_image)'] / res['torchvision decode_jpeg (batched)']:.1f}x slower than torchvision's batched decoder here. "
              'The project decodes with Pillow anyway: torchvision 0.29 deprecates its decoders, the decoded split is cached as one '
              f"tensor after the first run (so the cost is paid once per split, about {60_000 * res['pillow (read_image)'] / len(files):.0f} s for all 60,000 images at this speed), "
              "and for ImageNet-style folders, decoding one file per sample in DataLoader workers is what torchvision's own ImageFolder does."]
    Path('docs/results/speed/decode.md').write_text('\n'.join(lines) + '\n')
    Path('docs/results/speed/decode.json').write_text(json.dumps(out, indent=1) + '\n')
    print('\n'.join(lines))

if __name__ == '__main__': main(sys.argv[1])
