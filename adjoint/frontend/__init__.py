"""Front end: read the user's function, fence it to the subset, lower it to SSA IR."""
