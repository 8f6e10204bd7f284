"""One module per `tiendo` sub-command; each defines `register(subparsers)`.

`register` adds its parser and sets `func` to a callable taking (args, settings) and returning
an exit code (or a coroutine that does). A user error is raised as `bot.errors.UserError`.
"""
