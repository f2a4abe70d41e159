"""``python -m adjoint.gradbench``: serve the GradBench tool protocol on stdin/stdout."""
from .protocol import main

if __name__ == "__main__":
    main()
