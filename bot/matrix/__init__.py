"""Matrix: a bot account on a homeserver (see bot/matrix/platform.py)."""
