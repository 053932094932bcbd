"""``python -m polytopic.cli``: the ``polytopic`` command."""

from polytopic.cli.main import main

main()
