"""HTTP plumbing shared by the API functions (FastAPI). Event functions never import this."""
