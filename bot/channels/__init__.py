"""Channel adapters: each turns its platform's updates into events and sends one rendered
message; bot.channels.delivery does the rest for all of them (base.py says what a channel is)."""
