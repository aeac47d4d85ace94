"""In-memory fakes of the services' ports (one module per domain).

Each fake keeps the semantics the rules depend on (uniqueness, conditional
failures raising the same domain errors, order, sealed-cursor pages) and is held
to the real repository by a contract test in ``tests/integration/test_*_contract.py``.
"""
