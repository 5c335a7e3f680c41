"""``python -m aether.cli``: the ``aether`` command."""

from aether.cli import main

raise SystemExit(main())
