"""The workflow screens: the instance list (instances) and one instance's timeline (timeline)."""
