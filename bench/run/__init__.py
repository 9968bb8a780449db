"""Running a benchmark: options, the runner and its workers, seed groups, the
training loop, seeds and their random streams, early stopping, the env stamped on
each record, the plan and its time estimate, and adaptive seeding.
"""
