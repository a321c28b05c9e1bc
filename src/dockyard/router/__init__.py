"""The edge router of the local backend: HTTP(S) by Host header to each app's web pods."""

# Written into the router's state directory once it listens: the ports it bound.
PORTS_FILE = "ports.json"
