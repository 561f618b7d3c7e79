"""Technical primitives every layer uses: the clock, the errors a person can act on (and how each is
shown), what a case may hold (plain JSON), safe XML parsing.

Imports nothing from the project; nothing about the CPE programme belongs here (that is engine.domain).
"""
