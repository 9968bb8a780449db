"""Analysis: from run records to claim results and verdicts, independent of any renderer.
"""
