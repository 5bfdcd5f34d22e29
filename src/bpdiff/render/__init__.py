"""Renderers: read a Result and write text. They compute no math.
"""
