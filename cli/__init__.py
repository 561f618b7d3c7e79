"""The `cpe` command (cli.main): builds the Engine from the environment; only `serve`, `bench` and the
registry export build the web app. Commands print in Spanish and exit 1 on a person's mistake, 2 on a fault.
"""
