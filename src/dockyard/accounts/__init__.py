"""Users, API tokens, SSH keys, superuser admin and app collaborator permissions."""
