"""Pure core: no I/O."""
