"""Dapr component files: finding, parsing and resolving them (secrets, env). Later a Kubernetes source.
What it must never do: write a component, or show a secret it resolved."""
