"""The edge router of the local backend: HTTP(S) by Host header to each app's web pods."""
