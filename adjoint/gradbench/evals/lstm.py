"""GradBench ``lstm``: the ADBench LSTM, a stack of LSTM layers with diagonal weights run
over a character sequence, and the gradient of its loss.

``main_params`` has two rows per layer: row 2i holds the layer's weights and row 2i+1
its biases, each four blocks of b (forget, input, output and change gates).
``extra_params`` rows are the input weights, output weights and output biases;
``state`` rows 2i and 2i+1 are layer i's initial hidden and cell states. At each step
t < c-1 the stack predicts from ``sequence[t]``, the prediction is normalised as in
ADBench (minus log(2 + sum exp(ypred))) and scored against ``sequence[t+1]``; the
objective is -total / ((c-1) b).

Input ``{"main_params": [2l][4b], "extra_params": [3][b], "state": [2l][b],
"sequence": [c][b]}``; ``objective`` returns a float, ``jacobian`` one flat list:
the gradient of main_params row by row, then that of extra_params.
"""
import numpy as np

import adjoint

from . import Function


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_layer(weight, bias, hidden, cell, input):
    """One LSTM cell update with elementwise (diagonal) weights: the new hidden and cell."""
    b = hidden.shape[0]
    forget = sigmoid(input * weight[:b] + bias[:b])
    ingate = sigmoid(hidden * weight[b:2 * b] + bias[b:2 * b])
    outgate = sigmoid(input * weight[2 * b:3 * b] + bias[2 * b:3 * b])
    change = np.tanh(hidden * weight[3 * b:] + bias[3 * b:])
    cell = cell * forget + ingate * change
    hidden = outgate * np.tanh(cell)
    return hidden, cell


def lstm_objective(main_params, extra_params, state, sequence):
    n_layers = main_params.shape[0] // 2
    c, b = sequence.shape
    state = state.copy()  # rows 2i, 2i+1: layer i's hidden and cell, updated at every step
    total = 0.0
    for t in range(c - 1):
        # The step reads the states as they were before it (adjoint does not let a
        # function read rows of an array and then write into that same array).
        before = state.copy()
        layer_input = sequence[t] * extra_params[0]
        for i in range(n_layers):
            hidden, cell = lstm_layer(main_params[2 * i], main_params[2 * i + 1],
                                      before[2 * i], before[2 * i + 1], layer_input)
            state[2 * i] = hidden
            state[2 * i + 1] = cell
            layer_input = hidden
        ypred = layer_input * extra_params[1] + extra_params[2]
        ynorm = ypred - np.log(2.0 + np.sum(np.exp(ypred)))
        total = total + np.sum(sequence[t + 1] * ynorm)
    return -total / ((c - 1) * b)


lstm_grad = adjoint.grad(lstm_objective, wrt=("main_params", "extra_params"), background=False)


def prepare(input):
    return tuple(np.asarray(input[key], dtype=np.float64)
                 for key in ("main_params", "extra_params", "state", "sequence"))


def jacobian_output(grads):
    main, extra = grads
    return np.concatenate((main.ravel(), extra.ravel())).tolist()


FUNCTIONS = {
    "objective": Function(prepare, lstm_grad.forward, float),
    "jacobian": Function(prepare, lstm_grad, jacobian_output),
}

TINY_INPUT = {  # l = 1 layer, b = 2, c = 3 characters
    "main_params": [[0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8],
                    [0.05, 0.1, -0.15, 0.2, 0.25, -0.3, 0.35, 0.4]],
    "extra_params": [[0.9, -0.4], [0.3, 0.8], [-0.1, 0.2]],
    "state": [[0.1, 0.2], [-0.3, 0.4]],
    "sequence": [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
}
