"""Widgets of the board: tiles, header, health line."""
