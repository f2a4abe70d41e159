"""The SSA intermediate representation: nodes, a printer and a verifier."""
