"""Configuration, application assembly, channel adapters and the command line."""
