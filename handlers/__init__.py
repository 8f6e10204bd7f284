"""Channel-neutral dialogs and commands: events in, replies out."""
