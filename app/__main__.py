"""``python -m app ...`` is ``nnplay ...``."""
import sys

from app.cli import main

sys.exit(main())
