"""The PyTorch backend: the per-seed trainer (``single``), the vectorized group
trainer (``group``), their layers (``layers``), Keras-semantics Adam (``adam``) and the
Mersenne Twister that draws Keras-identical dropout masks (``mt``).
"""
