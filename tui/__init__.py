"""The Textual board: the only code that imports textual."""
