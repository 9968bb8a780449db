"""C4's two convolutions alone in PyTorch (2 threads, random inputs, channels-last as in the trainer): ms and GFLOP/s
forward, and forward + backward (conv1: weight gradient only, as in training). Usage: python conv_layers_probe.py"""
import time, torch, torch.nn.functional as F
from bench.host.allocator import keep_freed_memory
keep_freed_memory()
torch.set_num_threads(2)
def t(f, n=30):
    f(); s=time.perf_counter()
    for _ in range(n): f()
    return (time.perf_counter()-s)/n*1e3
x1 = torch.randn(128,28,28,1).permute(0,3,1,2)
w1 = torch.randn(32,1,3,3, requires_grad=True); b1=torch.zeros(32, requires_grad=True)
x2 = torch.randn(128,32,13,13).to(memory_format=torch.channels_last).requires_grad_(True)
w2 = torch.randn(64,32,3,3, requires_grad=True); b2=torch.zeros(64, requires_grad=True)
def fb1():
    y=F.conv2d(x1,w1,b1); y.backward(torch.ones_like(y))
def f1(): F.conv2d(x1,w1,b1)
def fb2():
    y=F.conv2d(x2,w2,b2); y.backward(torch.ones_like(y))
def f2(): F.conv2d(x2,w2,b2)
for name,f,fl in [("conv1 fwd",f1,128*26*26*32*9*2),("conv1 fwd+bwd(w)",fb1,2*128*26*26*32*9*2),("conv2 fwd",f2,128*11*11*64*288*2),("conv2 fwd+bwd",fb2,3*128*11*11*64*288*2)]:
    ms=t(f); print(f"{name}: {ms:.2f} ms  {fl/ms/1e6:.1f} GFLOP/s")
