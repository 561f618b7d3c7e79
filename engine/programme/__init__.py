"""The CPE programme's features over running cases: its service-task operators (operators), workshops,
benefits, company records (registro CPE), indicators, the dashboard and the heat map, the company
portal and the data-access audit.

The mechanics of running cases are engine.cases; pure rules are engine.domain. A feature here may use
both; nothing below imports a feature.
"""
