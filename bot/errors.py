"""Errors a command reports to its user as a message, not a traceback."""


class UserError(Exception):
    """Something the user can fix; its message is printed as is and the exit code is 1."""
