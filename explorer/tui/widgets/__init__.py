"""The small widgets screens compose: the key and row tables, the partition and store lists, and the
text helpers that turn store text into safe Rich text. They render and post messages; no I/O."""
