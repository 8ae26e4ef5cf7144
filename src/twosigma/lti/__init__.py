"""LTI 1.3 tool: platforms, the tool's keys, launches (docs/lti.md)."""
