"""What stops `jbl run` or a command that talks to a platform before it starts."""

from __future__ import annotations


class ChannelFailed(Exception):
    """A channel could not start; the message says which and why."""
