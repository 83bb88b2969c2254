"""pytest puts this folder on sys.path (as it does for every conftest.py), so the suites below it
can import the helpers they share from `local_processes`."""
