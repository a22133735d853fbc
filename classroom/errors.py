"""The classroom's exceptions: each carries a sentence a student or teacher can read as it is."""

from __future__ import annotations


class ClassroomError(Exception):
    """Base class: ``str(error)`` (and ``error.message``) is a sentence for the page to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(ClassroomError, ValueError):
    """A value typed or clicked by a user is not acceptable (malformed code, long name, bad point)."""


class RoomNotFound(ClassroomError, LookupError):
    """No room has this code (never opened, closed by its teacher, or expired and already deleted)."""


class RoomExpired(RoomNotFound):
    """The room existed but was idle for longer than the idle time; it has just been deleted."""


class NotAuthorized(ClassroomError, PermissionError):
    """A teacher action without the room's teacher secret, or a student token the room does not know."""


class WrongState(ClassroomError):
    """The action does not fit the room's state (e.g. a guess after the reveal, a reveal with no question)."""


class RateLimited(ClassroomError):
    """Too many attempts from one session; ``retry_after`` says how many seconds to wait."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after
