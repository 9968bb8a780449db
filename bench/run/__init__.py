"""Running a benchmark: options, the runner and its workers, seed groups, the
training loop, seeds and their random streams, early stopping, devices, the
environment record, the plan and its time estimate, and adaptive seeding.
"""
