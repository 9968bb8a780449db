"""Pure statistics: significance tests and effect sizes, intervals, equivalence,
proportions, trend tests, power, and the claim kinds built from them (``kinds``).
"""
