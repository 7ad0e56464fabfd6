"""What the test packages share: free ports, bounded waits, the metrics text parser, in-process CLI runs.

One copy of each helper (issue 11, pair 8): test modules import from here, not from each other.
"""
