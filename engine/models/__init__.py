"""Process models — BPMN diagrams, DMN decisions and JSON Schema forms; not database models, which are
engine.store.schema: validation before deploy (validation, dmn_validation, forms), stored versions,
differences between versions (diff), the service-task retry policy, the expression sandbox and the
SpiffWorkflow wrapper (spiff).

Running cases is engine.cases; this package only reads, checks and compiles models. It holds no imports
so the sandbox child process (engine.models.sandbox_child) starts light.
"""
