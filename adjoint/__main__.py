"""``python -m adjoint``: see ``adjoint/cli.py``."""
import sys

from .cli import main

sys.exit(main())
