"""Builds from source: intake (git push, uploads), the build pipeline and buildpacks."""
