"""Speed: seconds per seed-run of the backends beside reference training loops (``measure``:
C1's MLP; ``conv``: C4's CNN, by work done, with ``flops``), and the GPU check (``gpu_check``).
"""
