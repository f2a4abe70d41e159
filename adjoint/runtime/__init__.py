"""Runtime support code imported by generated gradient functions."""
