"""The CPE programme's rules as pure functions and data: roles and permissions, regions, RUT, company
size, the TPE score, derivation, assignment of executives, working days.

No database, no SpiffWorkflow, no Flask: a rule here is tested with a table of inputs and outputs.
"""
