"""The one exception type that the command line turns into a single clear line.

Anything raised as `ThelookError` is a problem with input or environment that the user can act on; its
message says what, where and what to do. Anything else is a bug and keeps its traceback.
"""


class ThelookError(Exception):
    """A user-facing failure: the message is the whole story, printed as one line."""
