"""Transforms of the IR: the reverse (adjoint) sweep and cleanup."""
