"""The Python side of every compiled loop: epochs, early stopping, histories.

:class:`Loop` runs the epochs of one fit; each backend's module
(:mod:`._loop_tensorflow`, :mod:`._loop_jax`, :mod:`._loop_torch`)
subclasses it and compiles the epoch behind its hooks. The backends import
this module and nothing imports them back but the factory,
:mod:`._compiled`, which picks one.
"""

import numpy as np
import scipy.sparse as sp

from .._keras._backend import get_keras, seeded
from .._memory import DENSE_BLOCK_VALUES
from .._tuning import patience as patience_after

# Rows per forward pass when the validation loss is computed.
_EVAL_ROWS = 4096
# Sparse X reaches a network that can read it sparse (Loop.sparse_input) only
# where that pays (benchmarks/sparse_batches.py). TensorFlow's CPU sparse-dense
# product does far fewer multiply-adds per second than its dense one, and a
# sparse batch is a Python-level step of its own where dense X trains in one
# compiled epoch. Sparse batches won only with few non-zeros (0.1%, not 0.3%,
# of 10,000 features) and only where a dense product is dear, at a first
# layer of millions of weights (never at 1000 features x 256 units); on enron
# (8.6% non-zeros) a default fit took 4 to 5 times as long sparse.
SPARSE_BATCH_DENSITY = 0.002
SPARSE_READER_WEIGHTS = 1_000_000


class _Progress:
    """Keras's progress bar over epochs (``verbose=1``), or one line per
    epoch as ``Model.fit`` prints with ``verbose=2``; nothing at 0. Values
    of several members are their mean."""

    def __init__(self, epochs, verbose):
        self.epochs, self.verbose = epochs, int(verbose)
        self.bar = None
        if self.verbose == 1:
            self.bar = get_keras().utils.Progbar(
                epochs, stateful_metrics=["loss", "val_loss"], unit_name="epoch")

    def update(self, epoch, values, last):
        if self.bar is not None:
            self.bar.update(epoch + 1, values=values,
                            finalize=last or epoch + 1 == self.epochs)
        elif self.verbose:
            print(f"Epoch {epoch + 1}/{self.epochs} - "
                  + " - ".join(f"{k}: {v:.4f}" for k, v in values), flush=True)


def take(value, part, j):
    """Member ``j``'s slice of a stacked variable's ``value``."""
    axis, width = part
    index = [slice(None)] * value.ndim
    index[axis] = slice(j * width, (j + 1) * width)
    return value[tuple(index)]


class Members:
    """The members of a stacked ensemble (:mod:`sklearn_mlk._training._stacked`): rows
    each trains and validates on, which slice of each variable it owns, and
    ``owner``, the one member each row validates, where every row validates
    exactly one (k folds), else None."""

    def __init__(self, mask, parts):
        self.train_rows = mask.sum(axis=0)
        self.val_rows = mask.shape[0] - self.train_rows
        self.parts = parts
        validates = ~mask
        self.owner = (np.argmax(validates, axis=1)
                      if (validates.sum(axis=1) == 1).all() else None)

    @classmethod
    def of_rows(cls, train_rows, val_rows, parts):
        """Members of known row counts (rows streamed block by block)."""
        members = cls.__new__(cls)
        members.train_rows, members.val_rows, members.parts = train_rows, val_rows, parts
        members.owner = None
        return members

    def slices(self, values, j):
        return [None if part is None else take(value, part, j).copy()
                for value, part in zip(values, self.parts)]

    def put(self, values, j, weights):
        for value, part, weight in zip(values, self.parts, weights):
            if part is not None:
                take(value, part, j)[...] = weight


def stacked_members(model):
    """The members of a stacked ensemble (:mod:`sklearn_mlk._training._stacked`),
    whose output is ``(batch, k, labels)``: ``k``, or 0 for one network."""
    output_shape = model.outputs[0].shape
    return output_shape[1] if len(output_shape) == 3 else 0


def member_parts(model):
    """For each of a stacked model's variables
    (:mod:`sklearn_mlk._training._stacked`), ``(axis, width)`` of one member's
    slice, or None for a variable no member owns (dropout seeds)."""
    layers = get_keras().layers
    k = stacked_members(model)
    owned = {}
    for layer in model.layers:
        if isinstance(layer, layers.Dense):
            width = layer.units // k
            owned[id(layer.kernel)] = (1, width)
            owned[id(layer.bias)] = (0, width)
        elif isinstance(layer, layers.EinsumDense):
            owned[id(layer.kernel)] = (0, 1)
            owned[id(layer.bias)] = (0, 1)
    return [owned.get(id(v)) for v in model.variables]


def member_penalties(kernels, strengths, parts, k):
    """Each member's own L2 penalty, ``(k,)``: ``strengths[i]`` times the sum
    of squares of its slice of ``kernels[i]`` (``parts[i]``: the member axis
    and slice width), summed over the kernels. Their sum is the penalty of
    the whole stacked network, and so is its gradient."""
    ops = get_keras().ops
    total = ops.zeros((k,), dtype="float32")
    for strength, kernel, (axis, width) in zip(strengths, kernels, parts):
        squares = ops.moveaxis(ops.square(ops.cast(kernel, "float32")), axis, 0)
        total = total + strength * ops.sum(ops.reshape(squares, (k, -1)), axis=1)
    return total


def extra_value(value):
    """The layers' losses of an evaluation, as :meth:`Loop.evaluate` returns
    them: a float, or one per member of a stacked ensemble."""
    value = np.asarray(value, dtype=np.float64)
    return float(value) if value.ndim == 0 else value


def l2_layers(model):
    """The layers of ``model`` (nested models' included) whose kernel has an
    L2 regularizer, in the order of their kernels among the variables."""
    keras = get_keras()
    found = []

    def visit(layer):
        if type(getattr(layer, "kernel_regularizer", None)) is keras.regularizers.L2:
            found.append(layer)
        for inner in getattr(layer, "layers", ()):
            visit(inner)

    for layer in model.layers:
        visit(layer)
    order = {id(v): i for i, v in enumerate(model.trainable_variables)}
    return sorted((layer for layer in found if id(layer.kernel) in order),
                  key=lambda layer: order[id(layer.kernel)])


def is_l2_kernel(key, value):
    """Whether ``key: value`` of a layer's config is an L2 kernel regularizer."""
    return (key == "kernel_regularizer" and isinstance(value, dict)
            and value.get("class_name") == "L2")


def without_l2(config):
    """A model config with every L2 kernel regularizer removed."""
    if isinstance(config, dict):
        return {k: None if is_l2_kernel(k, v) else without_l2(v)
                for k, v in config.items()}
    if isinstance(config, list):
        return [without_l2(v) for v in config]
    return config


def _compact(array):
    """A constant array as one value of its dtype, any other as it is."""
    if array.size > 1 and (array == array.flat[0]).all():
        return array.dtype.type(array.flat[0])
    return array


def _dense(block):
    block = block.toarray() if sp.issparse(block) else block
    return np.asarray(block, dtype=np.float32)


def _dense_if_small(X):
    """Sparse X densified where the dense copy holds at most
    ``DENSE_BLOCK_VALUES``, else as it is."""
    return _dense(X) if X.shape[0] * X.shape[1] <= DENSE_BLOCK_VALUES else X


def _canonical_csr(X):
    """X as CSR with sorted, unique indices; the caller's matrix is not modified."""
    X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


class Loop:
    """The Python side of a compiled loop: epochs, early stopping, histories.

    A backend's loop (``loop_class(model, optimizer, loss, private=True)``)
    compiles the epoch and implements the hooks below; ``members`` is the
    number of members of a stacked ensemble (0 for one network),
    ``sparse_input`` whether the network can read sparse batches undensified,
    ``sparse_reader_weights`` the weights of the layer that would read them,
    ``sparse_batches`` whether they do in the current fit (see
    ``SPARSE_BATCH_DENSITY``), ``n_features`` the width of its input,
    ``own_rows`` whether it implements :meth:`evaluate_own_rows`.
    """

    members = 0
    own_rows = False
    sparse_input = False
    sparse_reader_weights = 0
    sparse_batches = False
    n_features = 0

    # Hooks ----------------------------------------------------------------

    def begin(self, model, loss):
        """Start a fit of ``model``: its weights, a fresh optimizer state and
        the loss's positive weights."""
        raise NotImplementedError

    def prepare(self, X, Y, w):
        """The training rows (X dense or canonical CSR, Y and w float32 arrays)
        in the form :meth:`epoch` takes."""
        raise NotImplementedError

    def epoch(self, data, order, batch_size):
        """Train one epoch over the rows in ``order``; return the mean
        training loss per row (one per member)."""
        raise NotImplementedError

    def evaluate(self, X, Y, w):
        """(Weighted loss summed over the rows, one per member; the layers'
        own losses) of a block of validation rows."""
        raise NotImplementedError

    def evaluate_own_rows(self, X, Y, w):
        """As :meth:`evaluate`, for a stacked ensemble whose validation rows
        are laid out by member (:func:`by_member`): X ``(rows, k,
        n_features)``, Y ``(rows, k, n_labels)``, w ``(rows, k)``; each
        member runs on its own rows only. Optional (``own_rows``)."""
        raise NotImplementedError

    def values(self):
        """The current weights, as arrays in the order of ``model.variables``."""
        raise NotImplementedError

    def assign(self, values):
        """Set the current weights from :meth:`values`' arrays."""
        raise NotImplementedError

    def end(self, model):
        """Copy the trained weights into ``model``."""
        raise NotImplementedError

    # Shared ---------------------------------------------------------------

    def describe(self, model, loss):
        """Keep what the compiled functions need to know of ``model`` and
        ``loss``: the loss's options, the members, the input width, the
        kernels whose L2 penalty the loop adds itself (:meth:`network`) and,
        for a stacked ensemble, each member's slice of them
        (``penalty_parts``, for :func:`member_penalties`)."""
        # (its options; the positive weights are given at each fit)
        self._loss_spec = loss
        self.members = stacked_members(model)
        self.n_features = int(np.prod(model.inputs[0].shape[1:]))
        # Positions among the trainable variables of the kernels penalised by
        # an L2 regularizer; on a private copy the loop adds their penalty,
        # at strengths given at each fit (l2_strengths).
        penalised = {id(layer.kernel) for layer in l2_layers(model)}
        self.penalised = ([] if self.model is model else
                          [i for i, v in enumerate(model.trainable_variables)
                           if id(v) in penalised])
        # A stacked ensemble's members each have their own penalty (their own
        # slices of the kernels) in the losses the loop reports and stops
        # on; the gradient, of their sum, is that of the whole penalty.
        self.penalty_parts = None
        if self.members and self.penalised:
            parts = dict(zip(map(id, model.variables), member_parts(model)))
            self.penalty_parts = [parts[id(model.trainable_variables[i])]
                                  for i in self.penalised]

    @staticmethod
    def network(model, private):
        """The network the loop trains: a private copy of ``model`` (its
        weights are copied in at each fit), or ``model`` itself.

        The copy has no L2 kernel regularizers: their strengths would be
        constants of the compiled functions, and a fit on a few more rows
        (the default MLP's ``alpha`` is per row) would compile them again.
        The loop adds the same penalty with the strengths of each fit.
        """
        if not private:
            return model
        # from_config rather than clone_model, which would also compile the
        # copy and fail to deserialise the loss. The copy's own initial
        # weights are never used; seeding keeps its draws from touching the
        # process-wide generators.
        with seeded(0):
            return type(model).from_config(without_l2(model.get_config()))

    def l2_strengths(self, model):
        """This fit's L2 strength of each penalised kernel of ``model``."""
        if not self.penalised:
            return np.zeros(0, dtype=np.float32)
        return np.array([float(layer.kernel_regularizer.l2) for layer in l2_layers(model)],
                        dtype=np.float32)

    def run(self, model, loss, X, Y, w, *, epochs, batch_size, validation, patience,
            shuffle, verbose, seed, members=None, settle=None):
        """Train; return the history, or one history per member of a stacked
        ensemble (``members``: its :class:`Members`)."""
        self.begin(model, loss)
        n = X.shape[0]
        k = self.members or 1
        train_rows = np.full(k, n) if members is None else members.train_rows
        val_rows = None
        if validation is not None:
            val_rows = (np.full(k, validation[0].shape[0]) if members is None
                        else members.val_rows)
        source = _Arrays(self, X, Y, w, validation,
                         None if members is None else members.owner)
        return self.run_epochs(model, source, train_rows, val_rows, epochs=epochs,
                               batch_size=batch_size, patience=patience, shuffle=shuffle,
                               verbose=verbose, seed=seed, members=members,
                               settle=settle)

    def run_epochs(self, model, source, train_rows, val_rows, *, epochs, batch_size,
                   patience, shuffle, verbose, seed, members=None, settle=None):
        """The epochs of :meth:`run` over any ``source`` of batches (after
        :meth:`begin`): in-memory arrays, or blocks streamed one at a time
        (:mod:`sklearn_mlk._dask`). ``source.train(rng, batch_size, shuffle)``
        runs one epoch and returns each member's loss summed over its rows;
        ``source.validate()`` returns ``(summed losses, layer losses)``, and is
        called only where ``val_rows`` (each member's validation rows) is
        given.

        Without validation rows, ``settle`` (``(min_delta, patience)``, see
        :func:`sklearn_mlk._tuning.settle`) ends training once no member's
        training loss has fallen below its lowest by more than ``min_delta``
        for ``patience`` epochs, as ``keras.callbacks.EarlyStopping(
        monitor="loss")`` would for each; the members train on together
        until the last of them settles, and keep their last weights.
        """
        rng = np.random.default_rng(seed)
        k = self.members or 1
        histories = [{"loss": []} for _ in range(k)]
        # Epochs each member trained before early stopping ended it.
        ran = np.full(k, epochs)
        validating = val_rows is not None
        if validating:
            for history in histories:
                history["val_loss"] = []
            best, wait = np.full(k, np.inf), np.zeros(k, dtype=int)
            best_weights = [None] * k
        elif settle is not None:
            min_delta, settle_patience = settle
            lowest, idle = np.full(k, np.inf), np.zeros(k, dtype=int)
        progress = _Progress(epochs, verbose)
        for epoch in range(epochs):
            losses = np.atleast_1d(source.train(rng, batch_size, shuffle)) / train_rows
            live = np.flatnonzero(ran > epoch)
            for j in live:
                histories[j]["loss"].append(float(losses[j]))
            shown = [("loss", float(np.mean(losses[live])))]
            # A NaN or infinite loss ends training, as keras.callbacks.
            # TerminateOnNaN does; the caller reports it.
            stop = not np.isfinite(losses).all()
            if validating:
                total, extra = source.validate()
                val_losses = total / val_rows + extra
                shown.append(("val_loss", float(np.mean(val_losses[live]))))
                improved = [j for j in live if val_losses[j] < best[j]]
                values = self.values() if improved else None
                for j in live:
                    histories[j]["val_loss"].append(float(val_losses[j]))
                    wait[j] += 1
                    if j in improved:
                        best[j], wait[j] = val_losses[j], 0
                        best_weights[j] = (values if members is None
                                           else members.slices(values, j))
                    waited = patience_after(patience, epoch + 1 - wait[j])
                    if wait[j] >= waited and epoch > 0:
                        ran[j] = epoch + 1
                stop = stop or (ran <= epoch + 1).all()
            elif settle is not None:
                idle += 1
                lower = losses < lowest - min_delta
                lowest[lower], idle[lower] = losses[lower], 0
                stop = stop or (epoch > 0 and (idle >= settle_patience).all())
            progress.update(epoch, shown, last=stop)
            if stop:
                break
        if validating:
            self._restore(best_weights, members)
        self.end(model)
        return histories[0] if members is None else histories

    def _batches_of(self, X):
        """The training X in the form its batches are drawn from; sets
        ``sparse_batches``.

        Sparse X stays sparse (canonical CSR) where the network reads it so
        and that pays (``SPARSE_BATCH_DENSITY``, ``SPARSE_READER_WEIGHTS``);
        otherwise its batches are densified, all at once where the dense X
        holds at most ``DENSE_BLOCK_VALUES``.
        """
        self.sparse_batches = False
        if not sp.issparse(X):
            return X
        X = _canonical_csr(X)
        size = X.shape[0] * X.shape[1]
        self.sparse_batches = bool(
            self.sparse_input and X.nnz < SPARSE_BATCH_DENSITY * size
            and self.sparse_reader_weights >= SPARSE_READER_WEIGHTS)
        return X if self.sparse_batches else _dense_if_small(X)

    def _restore(self, best_weights, members):
        """Set each member's weights (or the network's) to its best epoch's."""
        if members is None:
            if best_weights[0] is not None:
                self.assign(best_weights[0])
            return
        values = self.values()
        for j, weights in enumerate(best_weights):
            if weights is not None:
                members.put(values, j, weights)
        self.assign(values)

    def _validation_blocks(self, X, Y, w, owner=None):
        """The validation rows prepared once, for every epoch's loss: X as the
        training batches take it (sparse, or densified once where small
        enough), Y dense, the rows per block, and whether they are laid out
        by member (:func:`by_member`).

        A stacked ensemble's rows are laid out by member where each row
        validates one member (``owner``), the loop can run members on their
        own rows (``own_rows``), and the dense copy this takes holds at most
        ``DENSE_BLOCK_VALUES``: each member then computes its own rows only,
        not every row (the others' weights are 0 in its loss), a ``k``-th of
        the multiply-adds.
        """
        rows = _EVAL_ROWS
        if (owner is not None and self.own_rows
                and X.shape[0] * self.n_features <= DENSE_BLOCK_VALUES):
            return (*by_member(X, _dense(Y), np.asarray(w, dtype=np.float32),
                               owner, self.members),
                    max(1, rows // self.members), True)
        if sp.issparse(X):
            X = _canonical_csr(X)
            X = X if self.sparse_batches else _dense_if_small(X)
        if sp.issparse(X) and not self.sparse_batches:  # densified block by block
            rows = max(1, min(rows, DENSE_BLOCK_VALUES // self.n_features))
        return X, _dense(Y), np.asarray(w, dtype=np.float32), rows, False

    def validation_totals(self, validation):
        """Each member's loss summed over the prepared ``validation`` rows
        (:meth:`_validation_blocks`), and the layer losses."""
        X, Y, w, rows, own_rows = validation
        evaluate = self.evaluate_own_rows if own_rows else self.evaluate
        total, extra = 0.0, 0.0
        for start in range(0, X.shape[0], rows):
            part = slice(start, start + rows)
            block_total, extra = evaluate(X[part], Y[part], w[part])
            total = total + block_total
        return np.atleast_1d(total), extra


def by_member(X, Y, w, owner, k):
    """Validation rows laid out by the member they validate: X (dense or
    sparse) as ``(rows, k, n_features)``, Y ``(rows, k, n_labels)`` and w
    ``(rows, k)``, all dense float32,
    member ``j``'s rows (those where ``owner`` is ``j``, in order) at
    ``[:, j]``, padded with zeros (of weight 0) to the largest member's
    count. ``w`` is ``(n, k)``: row ``i`` keeps ``w[i, owner[i]]``."""
    counts = np.bincount(owner, minlength=k)
    order = np.argsort(owner, kind="stable")
    member = owner[order]
    # Each row's place among its member's rows.
    place = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = int(counts.max()) if len(order) else 0
    Xk = np.zeros((rows, k, X.shape[1]), dtype=np.float32)
    Yk = np.zeros((rows, k, Y.shape[1]), dtype=np.float32)
    wk = np.zeros((rows, k), dtype=np.float32)
    Xk[place, member] = _dense(X[order])
    Yk[place, member] = Y[order]
    wk[place, member] = w[order, member]
    return Xk, Yk, wk


class _Arrays:
    """The source of :meth:`Loop.run_epochs` for arrays in memory."""

    def __init__(self, loop, X, Y, w, validation, owner=None):
        self.loop, self.n = loop, X.shape[0]
        X = loop._batches_of(X)
        self.data = loop.prepare(X, _dense(Y), np.asarray(w, dtype=np.float32))
        self.validation = (None if validation is None
                           else loop._validation_blocks(*validation, owner=owner))

    def train(self, rng, batch_size, shuffle):
        order = rng.permutation(self.n) if shuffle else np.arange(self.n)
        return np.atleast_1d(self.loop.epoch(self.data, order, batch_size)) * self.n

    def validate(self):
        return self.loop.validation_totals(self.validation)
