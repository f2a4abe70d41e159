"""Back end: write generated modules to disk, import them, compile them with Numba."""
