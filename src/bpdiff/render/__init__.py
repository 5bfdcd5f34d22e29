"""Renderers: read a Result and write text. They compute no math.

May import: bpdiff.graph, bpdiff.ops (for how operations print), and rich (table only).
"""
