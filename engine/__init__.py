"""Runs the CPE processes (no Flask, no web): models, cases, the programme's features, simulation.

Layers, lowest first — a module imports only from its own package or from lower layers
(tests/test_architecture.py checks it; README «Arquitectura» draws it):

    basics → domain → store → accounts | operators → models → cases → programme → assembly → simulate

This package holds no imports, so the sandbox child process starts without the engine.
"""
