"""The JAX neural-network primitives agree with PyTorch's (the learned operators rely on one set of weights)."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
torch = pytest.importorskip("torch")

from neuralmag.backends.jax import nn as jnn  # noqa: E402
from neuralmag.backends.torch import nn as tnn  # noqa: E402

jax.config.update("jax_enable_x64", True)


def _both(*arrays):
    return [jax.numpy.asarray(a) for a in arrays], [torch.as_tensor(a) for a in arrays]


@pytest.mark.parametrize("impl", ["xla", "im2col"])
@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 1), (2, 0)])
def test_conv2d_matches_torch(stride, padding, impl):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 8, 12)), rng.normal(size=(5, 3, 3, 3)), rng.normal(size=5)
    (jx, jw, jb), (tx, tw, tb) = _both(x, w, b)
    ref = tnn.conv2d(tx, tw, tb, stride=stride, padding=padding).numpy()
    np.testing.assert_allclose(np.asarray(jnn.conv2d(jx, jw, jb, stride=stride, padding=padding, impl=impl)), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("impl", ["xla", "im2col"])
@pytest.mark.parametrize("k,stride,padding,output_padding", [(2, 2, 0, 0), (3, 2, 1, 1), (4, 2, 1, 0), (3, 1, 1, 0)])
def test_conv_transpose2d_matches_torch(k, stride, padding, output_padding, impl):
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(2, 4, 5, 7)), rng.normal(size=(4, 3, k, k)), rng.normal(size=3)
    (jx, jw, jb), (tx, tw, tb) = _both(x, w, b)
    ref = tnn.conv_transpose2d(tx, tw, tb, stride, padding, output_padding).numpy()
    out = np.asarray(jnn.conv_transpose2d(jx, jw, jb, stride, padding, output_padding, impl=impl))
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def test_pool_linear_activations_pad_match_torch():
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(2, 3, 8, 4)), rng.normal(size=(6, 4)), rng.normal(size=6)
    (jx, jw, jb), (tx, tw, tb) = _both(x, w, b)
    for jy, ty in [
        (jnn.avg_pool2d(jx, 2), tnn.avg_pool2d(tx, 2)),
        (jnn.linear(jx, jw, jb), tnn.linear(tx, tw, tb)),
        (jnn.elu(jx), tnn.elu(tx)),
        (jnn.relu(jx), tnn.relu(tx)),
        (jnn.pad2d(jx, 1, 2, 3, 0), tnn.pad2d(tx, 1, 2, 3, 0)),
    ]:
        np.testing.assert_allclose(np.asarray(jy), ty.numpy(), rtol=1e-12, atol=1e-12)


def test_unknown_conv_impl_is_a_clear_error():
    x, w = jax.numpy.zeros((1, 1, 4, 4)), jax.numpy.zeros((1, 1, 3, 3))
    with pytest.raises(ValueError, match="im2col"):
        jnn.conv2d(x, w, impl="cudnn")
