"""The contract suite: the same tests against the simulator and against real Zoom.

Not in this release yet. Until it lands, the simulator's protocol behaviour is pinned by
``tests/simulator`` (raw protocol probes) and ``tests/interop`` (Zoom's official SDK).
"""
