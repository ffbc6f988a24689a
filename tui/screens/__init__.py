"""Screens pushed over the board: drill-down tables, row details, help."""
