"""Dependency chains: which workload a `dependency_unavailable` container waits on, and its root.

`address` lifts the host:port from the log, `records` decodes Services and EndpointSlices,
`index` resolves an address to pods, `chain` follows the pods' own findings to the root.
"""
