"""Analyses of the IR: which values need a cotangent."""
