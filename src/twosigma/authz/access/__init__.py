"""Authz's loaders and named decisions, one module per domain: each loader returns the resource the caller may use
(or what they may see of it) and raises otherwise; the order of the checks is written here, once.

Services and the authz FastAPI adapters (`authz/access/dependencies.py`) call these; the predicates of
`authz/policy.py` are their building blocks and are not called outside `twosigma.authz` (tests/test_layers.py).
"""
