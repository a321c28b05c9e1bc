"""Imports every ORM model of every domain package, so ``metadata`` is complete."""

from dockyard.accounts import models as _accounts  # noqa: F401
from dockyard.apps import models as _apps  # noqa: F401
from dockyard.builder import models as _builder  # noqa: F401
from dockyard.db.base import Base
from dockyard.releases import models as _releases  # noqa: F401
from dockyard.routing import models as _routing  # noqa: F401

metadata = Base.metadata
