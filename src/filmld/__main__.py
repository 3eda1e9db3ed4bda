"""`python -m filmld` runs the command-line interface."""

from filmld.cli import main

raise SystemExit(main())
