"""The compiled ensemble step: many same-shaped networks trained full-batch, one per thread.

Numba compiles `train_chunk` once per dtype (cached on disk), allowing sums to be reassociated
(`fastmath={"reassoc"}`: no finite-math assumptions, so non-finite costs are still seen) so that
the sums over samples vectorise. Not "contract": fused multiply-adds were placed differently in a
freshly compiled kernel and in one loaded from the cache, which changed the last bits of results
between processes (tests/nn/test_ensemble_compile.py guards against that). Each model runs its own loop over
iterations with buffers allocated once, so a model's numbers do not depend on which other models
share the call or on the thread count. Activations are stored unit-major, ``A[unit, sample]``, so
the innermost loops run over contiguous samples and vectorise.

Codes: activation as in the ``kernel`` column of `initlab.activations` (0 relu, 1 leaky_relu (0.01),
2 tanh, 3 sigmoid, 4 linear; a new engine activation adds its branch to `_activate` and
`_scale_by_derivative`; tests/nn/test_ensemble.py checks every engine activation against the NumPy
reference); head 0 sigmoid + BCE, 1 softmax + CE, 2 linear + MSE; optimizer 0 gd, 1 momentum, 2 adam.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _activate(code, z, out):
    for i in range(z.size):
        v = z[i]
        if code == 0:
            out[i] = v if v > 0 else v * 0
        elif code == 1:
            out[i] = v if v > 0 else v * 0.01
        elif code == 2:
            out[i] = np.tanh(v)
        elif code == 3:
            out[i] = 1 / (1 + np.exp(-v)) if v >= 0 else np.exp(v) / (1 + np.exp(v))
        else:
            out[i] = v


@njit(cache=True)
def _scale_by_derivative(code, z, a, delta):
    """delta *= phi'(z), using a = phi(z) where cheaper."""
    for i in range(z.size):
        if code == 0:
            delta[i] = delta[i] if z[i] > 0 else delta[i] * 0
        elif code == 1:
            delta[i] = delta[i] if z[i] > 0 else delta[i] * 0.01
        elif code == 2:
            delta[i] = delta[i] * (1 - a[i] * a[i])
        elif code == 3:
            delta[i] = delta[i] * (a[i] * (1 - a[i]))


@njit(cache=True)
def _head(code, z, targets, delta, need_loss):
    """Mean loss (shifted by the first sample's, exact for constant losses) and the unscaled delta.

    Without `need_loss` (an iteration whose cost is not recorded) the sigmoid head skips the
    log1p and returns 0, or NaN if a logit is not finite: its loss is finite exactly when every
    logit is, so divergence is still caught at the same iteration.
    """
    k, n = z.shape
    first = 0.0
    total = 0.0
    for i in range(n):
        if code == 0:
            v, y = z[0, i], targets[0, i]
            e = np.exp(-abs(v))
            if need_loss:
                loss = max(v, 0) - y * v + np.log1p(e)
            else:
                loss = v - v  # 0 for a finite logit, NaN otherwise
            delta[0, i] = (1 / (1 + e) if v >= 0 else e / (1 + e)) - y
        elif code == 1:
            label = int(targets[0, i])
            top = z[0, i]
            for c in range(1, k):
                top = max(top, z[c, i])
            s = 0.0
            for c in range(k):
                delta[c, i] = np.exp(z[c, i] - top)
                s += delta[c, i]
            loss = top + np.log(s) - z[label, i]
            for c in range(k):
                delta[c, i] = delta[c, i] / s
            delta[label, i] -= 1
        else:
            loss = 0.0
            for c in range(k):
                d = z[c, i] - targets[c, i]
                if i == 0 and c == 0:
                    first = d * d
                total += d * d - first
                delta[c, i] = (2.0 / k) * d
        if code != 2:
            if i == 0:
                first = loss
            total += loss - first
    count = n * k if code == 2 else n
    return first + total / count


@njit(cache=True)
def _accuracy(code, z, targets):
    """Fraction of samples whose prediction (sigmoid: logit > 0; softmax: the first largest logit, as
    numpy's argmax) equals the label."""
    k, n = z.shape
    correct = 0
    for i in range(n):
        if code == 0:
            predicted = 1 if z[0, i] > 0 else 0
        else:
            predicted = 0
            for c in range(1, k):
                if z[c, i] > z[predicted, i]:
                    predicted = c
        if predicted == targets[0, i]:
            correct += 1
    return correct / n


@njit(cache=True, parallel=True, fastmath={"reassoc"})
def train_chunk(XT, targets, params, state1, state2, sizes, acts, head_code, optimizer_code, lr,
                start, stop, record_every, costs, diverged_at, diverged_cost, beta, beta1, beta2, eps,
                has_target, target_cost, target_accuracy, reached_at):
    """Iterations start..stop-1 for every model still training (diverged_at < 0 and reached_at < 0).

    params, state1, state2: (models, P) flat [W1, b1, W2, b2, ...], W row-major (fan_in, fan_out).
    costs[m, it // record_every] receives the cost of every recorded iteration. beta is the momentum,
    beta1, beta2, eps Adam's; the caller passes the constants of `initlab.nn.optimizers`. With
    `has_target`, a model whose recorded cost is <= target_cost and whose training accuracy is >=
    target_accuracy (-inf: not checked) stops there, before that iteration's update: reached_at[m] = it
    (`initlab.nn.target`).
    """
    n = XT.shape[1]
    n_layers = sizes.size - 1
    total_units = 0
    widest = 0
    for l in range(1, sizes.size):
        total_units += sizes[l]
        widest = max(widest, sizes[l])
    for m in prange(params.shape[0]):
        if diverged_at[m] >= 0 or reached_at[m] >= 0:
            continue
        p, s1, s2 = params[m], state1[m], state2[m]
        Z = np.empty((total_units, n), dtype=XT.dtype)
        A = np.empty((total_units, n), dtype=XT.dtype)
        delta = np.empty((widest, n), dtype=XT.dtype)
        below = np.empty((widest, n), dtype=XT.dtype)
        grad = np.empty(p.size, dtype=XT.dtype)
        acc = np.empty(n, dtype=XT.dtype)
        for it in range(start, stop):
            # forward
            w_at, unit_at = 0, 0
            for l in range(n_layers):
                fan_in, fan_out = sizes[l], sizes[l + 1]
                b_at = w_at + fan_in * fan_out
                for j in range(fan_out):
                    acc[:] = 0
                    for k in range(fan_in):
                        w = p[w_at + k * fan_out + j]
                        prev = XT[k] if l == 0 else A[unit_at - fan_in + k]
                        for i in range(n):
                            acc[i] += prev[i] * w
                    for i in range(n):
                        Z[unit_at + j, i] = acc[i] + p[b_at + j]
                    if l < n_layers - 1:
                        _activate(acts[l], Z[unit_at + j], A[unit_at + j])
                w_at = b_at + fan_out
                unit_at += fan_out
            out_at = unit_at - sizes[-1]
            cost = _head(head_code, Z[out_at:unit_at], targets, delta[:sizes[-1]], it % record_every == 0)
            if not np.isfinite(cost):
                diverged_at[m], diverged_cost[m] = it, cost
                break
            if it % record_every == 0:
                costs[m, it // record_every] = cost
                if has_target and cost <= target_cost:
                    if target_accuracy == -np.inf or \
                            _accuracy(head_code, Z[out_at:unit_at], targets) >= target_accuracy:
                        reached_at[m] = it
                        break
            # backward, last layer first; w_at points past the last bias
            scale = 1.0 / n
            unit_at = out_at
            for l in range(n_layers - 1, -1, -1):
                fan_in, fan_out = sizes[l], sizes[l + 1]
                b_at = w_at - fan_out
                w_start = b_at - fan_in * fan_out
                below_at = unit_at - fan_in
                for j in range(fan_out):
                    total = 0.0
                    for i in range(n):
                        total += delta[j, i]
                    grad[b_at + j] = total * scale
                for k in range(fan_in):
                    prev = XT[k] if l == 0 else A[below_at + k]
                    for j in range(fan_out):
                        total = 0.0
                        for i in range(n):
                            total += prev[i] * delta[j, i]
                        grad[w_start + k * fan_out + j] = total * scale
                if l > 0:
                    for k in range(fan_in):
                        acc[:] = 0
                        for j in range(fan_out):
                            w = p[w_start + k * fan_out + j]
                            for i in range(n):
                                acc[i] += delta[j, i] * w
                        below[k] = acc
                        _scale_by_derivative(acts[l - 1], Z[below_at + k], A[below_at + k], below[k])
                    delta, below = below, delta
                w_at = w_start
                unit_at = below_at
            # update
            if optimizer_code == 0:
                for q in range(p.size):
                    p[q] -= lr * grad[q]
            elif optimizer_code == 1:
                for q in range(p.size):
                    s1[q] = beta * s1[q] + grad[q]
                    p[q] -= lr * s1[q]
            else:
                t = it + 1
                c1 = 1 - beta1 ** t
                c2 = 1 - beta2 ** t
                for q in range(p.size):
                    s1[q] = beta1 * s1[q] + (1 - beta1) * grad[q]
                    s2[q] = beta2 * s2[q] + (1 - beta2) * grad[q] * grad[q]
                    p[q] -= (lr / c1) * s1[q] / (np.sqrt(s2[q] / c2) + eps)
