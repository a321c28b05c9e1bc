"""Generated app names: ``<adjective>-<noun>``, like ``hungry-drumroll`` (pure)."""

from __future__ import annotations

import secrets

ADJECTIVES = (
    "ancient autumn bold brave bright calm clever cosmic crisp daring dusty eager early "
    "fancy fearless gentle giant golden happy hidden hungry icy jolly keen kind lively "
    "lucky mellow merry misty modest nimble noble odd patient plucky polished proud quick "
    "quiet rapid rustic shiny silent sleepy snowy solid spicy steady stormy sunny swift "
    "tender tidy tiny vivid wandering warm wild windy wise witty young zesty"
).split()
NOUNS = (
    "anchor apple badger beacon breeze canyon cedar comet coral cricket dawn delta dolphin "
    "drumroll ember falcon fern fjord forest galaxy garden glacier harbor hazel heron island "
    "jasmine kayak lagoon lantern maple meadow meteor mountain nebula oasis ocean orchard "
    "otter pebble pine planet prairie quartz raven reef river rocket sailboat sequoia "
    "shadow sparrow spruce summit sunrise thunder tiger tulip valley voyage walrus willow"
).split()


def generate_name() -> str:
    return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(NOUNS)}"


def generate_with_suffix() -> str:
    """Used once the plain pairs keep colliding: a short numeric tail keeps it readable."""
    return f"{generate_name()}-{secrets.randbelow(9000) + 1000}"
