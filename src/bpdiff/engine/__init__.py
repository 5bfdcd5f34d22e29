"""The engine: the primitive table, the graph, the two passes, kinks, and the math namespaces."""
