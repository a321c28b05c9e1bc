"""The HTTP layer: app factory, middleware, error mapping, auth dependencies, pagination."""
