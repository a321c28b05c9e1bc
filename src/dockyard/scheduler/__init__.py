"""Schedulers: the interface (``base``), config parsing shared by backends (``parse``) and the
backends themselves (``local``; ``kubernetes`` to come)."""
