"""The SQLite store: connections, migrations, batched writes and the reads tools need."""
