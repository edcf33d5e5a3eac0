"""Aggregate queries, one module per page. Each takes (engine, scope, ...) and returns
a small DataFrame or a dataclass: the rows its chart needs, never a whole table."""
