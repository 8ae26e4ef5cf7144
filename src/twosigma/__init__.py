"""twosigma: backend for AI-tutored learning."""

__version__ = "0.1.0"
