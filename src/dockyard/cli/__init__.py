"""The ``dockyard`` command line client. It talks to the controller over HTTP only."""
