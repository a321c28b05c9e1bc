"""Backup and restore of a controller: its database and the data dir's files that a
restored server needs (``members`` says which; ``database`` copies and loads the database;
``commands`` are ``dockyard backup`` and ``dockyard restore``)."""
