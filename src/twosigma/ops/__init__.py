"""Operating an install: the generated configuration reference, `twosigma doctor`, and the embedded database's
status, stop, backup and restore."""
