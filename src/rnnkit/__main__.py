"""``python -m rnnkit``."""

from rnnkit.cli.main import main

main()
