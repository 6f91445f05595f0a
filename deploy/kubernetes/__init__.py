"""Kubernetes manifests (kustomize) and the release steps they run: see docs/deploy.md."""
