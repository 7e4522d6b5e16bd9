"""The rules and writes of each domain, callable without HTTP: functions of (connection, actor, plain values).

Nothing here imports `services`, `dispatch` or `app` (tests/test_layers.py holds it)."""
