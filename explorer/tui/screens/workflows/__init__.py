"""The workflow screens: the instance list (instances), one instance's timeline (timeline) and the
window of pages the timeline holds (part_view, pure bookkeeping)."""
