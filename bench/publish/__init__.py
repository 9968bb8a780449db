"""Publishing: the report and its tables, plots and HTML page, the regression
baseline and gate, the comparison with published results, and the copy into ``results/``.
"""
