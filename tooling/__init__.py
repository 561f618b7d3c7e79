"""Developer tools: the benchmark (`cpe bench`), the demo data (`cpe demo`), both over the shipped models
(engine/programme/shipped.py: processes/ and forms/, or the installed package's copy), and the build step
that copies the front-end libraries and those models into the package (build_assets, standard library only).

Nothing in engine/ or webapp/ imports this package; the `cpe` command does.
"""
