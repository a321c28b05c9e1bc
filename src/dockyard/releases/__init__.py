"""Config, builds and releases: the immutable, numbered snapshots that get deployed."""
