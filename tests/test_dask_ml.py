"""dask-ml's wrappers over this estimator: ``Incremental`` streams the blocks
of a Dask array through ``partial_fit``, ``ParallelPostFit`` predicts block
by block. Both take a 1-D target only: dask-ml indexes ``y``'s blocks and
the prediction's as one-dimensional (a multi-label ``y`` of 2-D blocks
reaches ``partial_fit`` as a graph key, and a 2-D prediction does not fit
the 1-D result it allocates)."""

import warnings

import numpy as np
import pytest

dask_ml = pytest.importorskip("dask_ml")
pytestmark = [pytest.mark.dask, pytest.mark.network]

import dask.array as da  # noqa: E402
from dask_ml.wrappers import Incremental, ParallelPostFit  # noqa: E402

from sklearn_mlk import KerasMultiLabelClassifier  # noqa: E402


@pytest.fixture(scope="module")
def blocks():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y, da.from_array(X, chunks=(200, 6)), da.from_array(y, chunks=200)


def test_incremental_trains_one_epoch_per_block(blocks):
    X, y, X_blocks, y_blocks = blocks
    model = Incremental(KerasMultiLabelClassifier(hidden_layer_sizes=(16,),
                                                  threshold=0.5, random_state=0),
                        shuffle_blocks=False)
    model.fit(X_blocks, y_blocks, classes=[0, 1])
    assert model.estimator_.current_epoch == 4
    # The same four epochs as four partial_fit calls on the blocks in order.
    direct = KerasMultiLabelClassifier(hidden_layer_sizes=(16,), threshold=0.5,
                                       random_state=0)
    for start in range(0, 800, 200):
        direct.partial_fit(X[start:start + 200], y[start:start + 200], classes=[0, 1])
    np.testing.assert_allclose(model.estimator_.predict_proba(X), direct.predict_proba(X),
                               rtol=1e-5, atol=1e-6)
    lazy = model.predict(X_blocks)
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), direct.predict(X))


def test_parallel_post_fit_predicts_block_by_block(blocks):
    X, y, X_blocks, _ = blocks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # few rows per tuning fold
        fitted = KerasMultiLabelClassifier(hidden_layer_sizes=(16,), epochs=5,
                                           random_state=0).fit(X, y)
    wrapped = ParallelPostFit(fitted)
    np.testing.assert_array_equal(wrapped.predict(X_blocks).compute(), fitted.predict(X))
    np.testing.assert_allclose(wrapped.predict_proba(X_blocks).compute(),
                               fitted.predict_proba(X), rtol=1e-6)
