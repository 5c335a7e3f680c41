"""``python -m aether``: the ``aether`` command, where the console script is not on PATH."""

from aether.cli import main

raise SystemExit(main())
