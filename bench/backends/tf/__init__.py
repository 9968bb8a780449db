"""The TensorFlow/Keras backend: the per-seed trainer (``single``), the vectorized
group trainer (``group``) and the layers they share (``layers``).
"""
