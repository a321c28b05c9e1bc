"""The ways source reaches a build: git over SSH and over HTTP, and uploads."""
