"""Glue PySpark jobs: `<job>/job.py` entry points with `main(argv)`, pure transforms beside them."""
