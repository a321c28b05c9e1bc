"""Who may do what to an app (pure rules over already-loaded facts).

Owner and superusers may do everything; collaborators everything but destroy, transfer and
sharing; anyone else gets 403.
"""

from __future__ import annotations

from enum import Enum

from dockyard.core.errors import Forbidden


class Action(Enum):
    use = "use"  # read and operate: config, scale, deploy, logs, run...
    share = "share"  # add collaborators
    transfer = "transfer"
    destroy = "destroy"


def allowed(*, action: Action, is_owner: bool, is_collaborator: bool, is_superuser: bool) -> bool:
    if is_superuser or is_owner:
        return True
    return action is Action.use and is_collaborator


def require(*, action: Action, is_owner: bool, is_collaborator: bool, is_superuser: bool) -> None:
    if not allowed(
        action=action, is_owner=is_owner, is_collaborator=is_collaborator, is_superuser=is_superuser
    ):
        raise Forbidden()
