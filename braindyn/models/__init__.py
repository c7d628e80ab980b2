"""The book's networks and the benchmark networks."""
