"""Connector contracts: the reference connector run through the scenario catalogue, judged from
the simulator's journal (in-process, on the manual clock; not applicable to live targets)."""
