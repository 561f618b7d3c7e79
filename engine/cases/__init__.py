"""Running cases: the Engine and its verbs (one transaction each), steps, the rows and the task index,
read queries, recovery, case migration, timer starts and the worker loop, comments, drafts.

Code elsewhere takes the Engine as its first argument and uses only its public verbs and
transaction / Session / now / locked; the programme's features (workshops, benefits…) are engine.programme.
"""
