"""Developer tools that read the repository's own processes/ and forms/ folders (which the installed
package does not ship): the benchmark (`cpe bench`) and the demo data (`cpe demo`).

Nothing in engine/ or webapp/ imports this package; the `cpe` command does.
"""
