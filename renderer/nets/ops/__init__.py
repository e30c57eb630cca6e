"""Pure-PyTorch building blocks shared by the StyleGAN networks (no compiled extensions)."""
