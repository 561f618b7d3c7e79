"""How a service-task operator runs: its parameter checks, the context it receives, dispatch with a time
limit (deadline).

The operators themselves are the programme's (engine.programme.operators); they are handed to the
Engine, so nothing here knows a feature.
"""
