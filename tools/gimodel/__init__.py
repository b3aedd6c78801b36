"""Model tooling for libgatedinpaint: the GGUF writer/reader shared by
gi-convert and the training recipe, the DeepFill v2 architecture table, and
readers for PyTorch and TensorFlow checkpoints that import neither framework.
deepfill_torch, the PyTorch reference of the network (tests, training,
benchmarks), is the one module that needs torch; nothing here imports it.
"""
