"""libgatedinpaint's DeepFill v2 training recipe (gated convolutions, SN-PatchGAN)."""
