"""A minimal Django project for the peer figure of the benchmark (bench/README.md)."""
