"""The `cpe` command (cli.main): builds the Engine from the environment (cli.context); only `serve` and
`export registro` build the web app (`bench` builds its own, on a throwaway engine). Commands print in
Spanish and exit 1 on a person's mistake, 2 on a fault.
"""
