"""What the test packages share: free ports, bounded waits, the metrics text parser, in-process CLI
runs, the one builder of Kubernetes objects, and a ClusterState on a test clock.

One copy of each helper (issue 11, pair 8): test modules import from here (or from a helper module
of their own folder), never from another `test_*.py` module.
"""
