"""The targets: the simulator (in this process or as a server) and real Zoom (opt-in)."""
