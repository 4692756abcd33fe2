"""nnplay's neural-network engine: NumPy only, batches as rows, seeded, no printing."""
