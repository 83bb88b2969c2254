"""One module per chaos scenario, each with run(short) built on ../harness.py; chaos.py names them."""
