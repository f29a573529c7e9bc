"""The ``rnnkit`` command line: one module per command group."""
