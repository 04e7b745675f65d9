"""Data sources. Each module turns a payload into plain records; none touches the database."""
