"""rusty-qr's Python host: Flask served by gunicorn, one module per tier (python/README.md).

Run with `PYTHONPATH=python target/venv/bin/python -m rusty_qr --tier py-tier-0`.
"""
