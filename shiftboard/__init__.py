"""shiftboard: a live operations board for customer-support shift supervisors, in the terminal."""

__version__ = "0.1.0"
