"""THE place where permissions and tenant scoping are decided. Routes never hand-roll checks."""
