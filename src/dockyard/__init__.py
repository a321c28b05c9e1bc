"""Dockyard: a self-hosted, Heroku-style application platform controller."""

__version__ = "0.1.0"
API_VERSION = "2.3"
