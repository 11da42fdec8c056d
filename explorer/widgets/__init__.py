"""The explorer's widgets, one module per part of the screen they draw.

Widgets only render what they are given and post messages; they never do I/O.
"""
