"""Speed: seconds per seed-run of the backends beside reference training loops.
"""
