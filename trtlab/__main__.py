"""``python -m trtlab`` is the ``trtlab`` command."""

from trtlab.cli import main

raise SystemExit(main())
