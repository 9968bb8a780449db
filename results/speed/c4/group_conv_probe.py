"""C4's two convolutions for a group of S = 4 seeds, three ways, forward and backward (conv1:
weight gradient only, as in training), 1 thread, random inputs, all channels-last:
``per_seed``: one convolution per seed (the per-seed path); ``grouped``: one grouped
convolution, ``groups=S`` (the vectorized path); ``packed``: each seed's patches unfolded
(im2col) and multiplied by its kernel in one batched GEMM (``torch.bmm``), the packing the
vectorized path could use instead. The three are timed interleaved, 7 rounds; median ms per
group and GFLOP/s by work done. Usage: python group_conv_probe.py"""
import statistics, time

import torch
import torch.nn.functional as F

from bench.host.allocator import keep_freed_memory

keep_freed_memory()
torch.set_num_threads(1)
S, B, ROUNDS = 4, 128, 7


def nhwc(*shape):
    return torch.randn(*shape).to(memory_format=torch.channels_last)


def per_seed(cin, cout, h):
    xs = [nhwc(B, cin, h, h).requires_grad_(cin > 1) for _ in range(S)]
    ws = [nhwc(cout, cin, 3, 3).requires_grad_() for _ in range(S)]

    def step():
        for x, w in zip(xs, ws):
            y = F.conv2d(x, w)
            y.backward(torch.ones_like(y))
    return step


def grouped(cin, cout, h):
    x = nhwc(B, S * cin, h, h).requires_grad_(cin > 1)
    w = nhwc(S * cout, cin, 3, 3).requires_grad_()

    def step():
        y = F.conv2d(x, w, groups=S)
        y.backward(torch.ones_like(y))
    return step


def packed(cin, cout, h):
    x = torch.randn(S, B, h, h, cin).requires_grad_(cin > 1)   # NHWC per seed
    w = torch.randn(S, 9 * cin, cout).requires_grad_()
    o = h - 2

    def step():
        cols = x.unfold(2, 3, 1).unfold(3, 3, 1)               # (S, B, o, o, cin, 3, 3)
        cols = cols.permute(0, 1, 2, 3, 5, 6, 4).reshape(S, B * o * o, 9 * cin)
        y = torch.bmm(cols, w)
        y.backward(torch.ones_like(y))
    return step


for name, (cin, cout, h) in {"conv1": (1, 32, 28), "conv2": (32, 64, 13)}.items():
    products = 2 if cin == 1 else 3                             # forward, weight grad, input grad
    flop = 2 * B * (h - 2) ** 2 * cout * cin * 9 * S * products
    steps = {way: make(cin, cout, h) for way, make in
             (("per_seed", per_seed), ("grouped", grouped), ("packed", packed))}
    times = {way: [] for way in steps}
    for step in steps.values():
        step()
    for r in range(ROUNDS):
        for way in (list(steps) if r % 2 == 0 else list(steps)[::-1]):
            t0 = time.perf_counter()
            steps[way]()
            times[way].append(time.perf_counter() - t0)
    base = statistics.median(times["per_seed"])
    for way, ts in times.items():
        m = statistics.median(ts)
        print(f"{name} {way:9s} {m * 1e3:8.2f} ms per group of {S}  {flop / m / 1e9:6.1f} GFLOP/s  "
              f"x{m / base:.2f} the per-seed time")
