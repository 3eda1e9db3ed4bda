"""filmld: a linked-data publisher for film facts."""

__version__ = "0.1.0"
