"""Code generation: readable names and Python source from the IR."""
