"""Several recording servers on one PostgreSQL catalog (issue 25; docs/design/cluster.md)."""
