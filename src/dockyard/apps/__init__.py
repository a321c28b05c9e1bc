"""Applications: create, list, transfer, destroy and their collaborators."""
