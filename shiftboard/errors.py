"""Errors a command reports as a message and an exit code rather than a traceback.

Apart from the modules that raise them, so the command line can catch them without importing those modules (the
board's start-up leaves the configuration's library, pydantic, out of the process that draws its first frame).
"""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration cannot be used. ``problems`` holds one line per problem: where, which key, what."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
