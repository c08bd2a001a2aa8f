"""PyTorch backend: arrays are ``torch.Tensor``; generated functions run eagerly and support autograd."""

from neuralmag.backends.torch.backend import backend

__all__ = ["backend"]
