"""The speed table's reference loop for PyTorch: the loop a PyTorch user would write, used
only to time the suite against it (``bench speed``).

``plain_torch``: a ``DataLoader`` over a ``TensorDataset``, one optimizer step
per batch, training the C1 "both" arm (dropout + L2); returns seconds and test
accuracy.
"""
from __future__ import annotations

import time


def plain_torch(arrays, epochs: int, seed: int = 1) -> dict:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    x, y, x_test, y_test = arrays
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(x.shape[1], 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 128), nn.ReLU(),
                        nn.Dropout(0.5), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                        nn.Linear(32, 10))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    loader = DataLoader(TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), batch_size=128, shuffle=True)
    start, steps = time.perf_counter(), 0
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(xb), yb)
            loss = loss + 1e-4 * sum(p.pow(2).sum() / 2 for p in net.parameters())
            loss.backward()
            opt.step()
            steps += 1
    seconds = time.perf_counter() - start
    net.eval()
    with torch.no_grad():
        acc = float((net(torch.as_tensor(x_test)).argmax(1) == torch.as_tensor(y_test)).float().mean())
    return {"loop": "plain_torch", "seconds": seconds, "steps": steps, "test_accuracy": acc}


def plain_torch_conv(arrays, epochs: int, seed: int = 1) -> dict:
    """``plain_torch_conv``: C4's ``fc`` arm (two conv blocks, Dropout 0.5 around Linear 128) in
    the loop a PyTorch user writes: NCHW tensors, a shuffling ``DataLoader``, default Adam."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    x, y, x_test, y_test = arrays
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 128), nn.ReLU(),
                        nn.Dropout(0.5), nn.Linear(128, 10))
    opt = torch.optim.Adam(net.parameters())
    images = torch.as_tensor(x).reshape(-1, 1, 28, 28)
    loader = DataLoader(TensorDataset(images, torch.as_tensor(y)), batch_size=128, shuffle=True)
    start, steps = time.perf_counter(), 0
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(net(xb), yb).backward()
            opt.step()
            steps += 1
    seconds = time.perf_counter() - start
    net.eval()
    with torch.no_grad():
        out = torch.cat([net(c) for c in torch.as_tensor(x_test).reshape(-1, 1, 28, 28).split(2048)])
        acc = float((out.argmax(1) == torch.as_tensor(y_test)).float().mean())
    return {"loop": "plain_torch_conv", "seconds": seconds, "steps": steps, "test_accuracy": acc}
